package sbom

import (
	"bytes"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// TestCycloneDXAnalysisSaysWhatHappened: the impact analysis of a
// suppressed finding is what the suppression means in CycloneDX 1.6
// (impactAnalysisState: "resolved" = "the vulnerability has been
// remediated", "exploitable" = "may be directly or indirectly exploitable",
// "not_affected" with a justification, "in_triage" = "being
// investigated"). An ignore-file entry accepts a risk: the flaw is still
// there, so it is "exploitable" with the response "will_not_fix" (or
// "can_not_fix" when no fix exists), never "resolved".
func TestCycloneDXAnalysisSaysWhatHappened(t *testing.T) {
	ignore := func(reason string) finding.Annotation {
		return finding.Annotation{Kind: vocab.AnnotationSuppressed, Source: ".drydockignore.yaml", Reason: reason, Expires: "2026-06-30"}
	}
	vex := func(status, reason string) []finding.Annotation {
		as := []finding.Annotation{{Kind: vocab.AnnotationVEX, Source: ".vex/libcap.openvex.json", Status: status, Reason: reason}}
		if status == "not_affected" || status == "fixed" {
			as = append(as, finding.Annotation{Kind: vocab.AnnotationSuppressed, Source: ".vex/libcap.openvex.json", Status: status, Reason: "VEX " + status})
		}
		return as
	}
	type analysis struct {
		State, Justification, Detail string
		Response                     []string
		Installed                    string // status of the installed version in affects
	}
	tests := []struct {
		name    string
		as      []finding.Annotation
		unfixed bool
		want    *analysis
	}{
		{
			name: "ignore-file entry: accepted risk",
			as:   []finding.Annotation{ignore("fix ships with the next base image")},
			want: &analysis{State: "exploitable", Response: []string{"will_not_fix"}, Installed: "affected",
				Detail: "fix ships with the next base image; source: .drydockignore.yaml; expires: 2026-06-30"},
		},
		{
			name: "ignore-file entry whose reason says not affected: still an accepted risk, not a VEX statement",
			as:   []finding.Annotation{ignore("not affected: we never call cap_launch")},
			want: &analysis{State: "exploitable", Response: []string{"will_not_fix"}, Installed: "affected",
				Detail: "not affected: we never call cap_launch; source: .drydockignore.yaml; expires: 2026-06-30"},
		},
		{
			name:    "--ignore-unfixed: no fix exists",
			as:      []finding.Annotation{{Kind: vocab.AnnotationSuppressed, Source: "--ignore-unfixed", Reason: "unfixed"}},
			unfixed: true,
			want:    &analysis{State: "exploitable", Response: []string{"can_not_fix"}, Installed: "affected", Detail: "unfixed; source: --ignore-unfixed"},
		},
		{
			name: "VEX not_affected with its justification and impact statement",
			as:   vex("not_affected", "vulnerable_code_not_in_execute_path: the server never calls cap_launch"),
			want: &analysis{State: "not_affected", Justification: "code_not_reachable", Installed: "unaffected",
				Detail: "vulnerable_code_not_in_execute_path: the server never calls cap_launch; source: .vex/libcap.openvex.json"},
		},
		{
			name: "VEX fixed",
			as:   vex("fixed", ""),
			want: &analysis{State: "resolved", Installed: "unaffected", Detail: "source: .vex/libcap.openvex.json"},
		},
		{
			name: "VEX affected",
			as:   vex("affected", ""),
			want: &analysis{State: "exploitable", Installed: "affected", Detail: "source: .vex/libcap.openvex.json"},
		},
		{
			name: "VEX under_investigation",
			as:   vex("under_investigation", ""),
			want: &analysis{State: "in_triage", Installed: "affected", Detail: "source: .vex/libcap.openvex.json"},
		},
		{
			name: "VEX statements deciding each CVE of the vendor advisory",
			as: []finding.Annotation{
				{Kind: vocab.AnnotationVEX, Source: "a.openvex.json", Status: "not_affected (CVE-2023-2602)", Reason: "vulnerable_code_not_present"},
				{Kind: vocab.AnnotationVEX, Source: "b.openvex.json", Status: "fixed (CVE-2023-2603)"},
				{Kind: vocab.AnnotationSuppressed, Source: "a.openvex.json, b.openvex.json", Status: "not_affected",
					Reason: "VEX not_affected (CVE-2023-2602): vulnerable_code_not_present; fixed (CVE-2023-2603)"},
			},
			want: &analysis{State: "not_affected", Justification: "code_not_present", Installed: "unaffected",
				Detail: "VEX not_affected (CVE-2023-2602): vulnerable_code_not_present; fixed (CVE-2023-2603); source: a.openvex.json, b.openvex.json"},
		},
		{
			name: "VEX statement on one CVE of the vendor advisory only: no analysis of the whole",
			as: []finding.Annotation{
				{Kind: vocab.AnnotationVEX, Source: "a.openvex.json", Status: "not_affected (CVE-2023-2602)", Reason: "vulnerable_code_not_present"},
			},
		},
		{
			name: "--severity filter: no analysis, nobody assessed it",
			as:   []finding.Annotation{{Kind: vocab.AnnotationFiltered, Source: "--severity", Reason: "severity not selected"}},
		},
	}
	schema := cdxSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reporttest.AlmaLinux()
			var key string
			for i := range r.Findings {
				if r.Findings[i].ID == "ALSA-2023:5071" {
					r.Findings[i].Annotations = tt.as
					if tt.unfixed {
						r.Findings[i].FixedVersion, r.Findings[i].Status = "", vocab.StatusAffected
					}
					key = r.Findings[i].Key()
				}
			}
			bom := CycloneDX(r, true)
			var v *cdx.Vulnerability
			for i := range *bom.Vulnerabilities {
				if (*bom.Vulnerabilities)[i].BOMRef == key {
					v = &(*bom.Vulnerabilities)[i]
				}
			}
			if v == nil {
				t.Fatalf("no vulnerability %s", key)
			}
			var got *analysis
			if a := v.Analysis; a != nil {
				got = &analysis{State: string(a.State), Justification: string(a.Justification), Detail: a.Detail,
					Installed: string((*(*v.Affects)[0].Range)[0].Status)}
				if a.Response != nil {
					for _, r := range *a.Response {
						got.Response = append(got.Response, string(r))
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("analysis (-want +got):\n%s", diff)
			}
			var buf bytes.Buffer
			if err := WriteCycloneDX(&buf, r, true); err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(buf.Bytes()); err != nil {
				t.Errorf("CycloneDX output does not validate:\n%v", err)
			}
		})
	}
}
