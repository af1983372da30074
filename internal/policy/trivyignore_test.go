package policy

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// TestTrivyIgnoreYAML: Trivy's .trivyignore.yaml, as Trivy writes it, on
// the AlmaLinux application image: id (matching an alias too), paths
// (relative, as Trivy writes them), purls, an entry without id,
// statement, expired_at, and every section.
func TestTrivyIgnoreYAML(t *testing.T) {
	const path = "testdata/ignore/trivyignore.yaml"
	ign := mustIgnore(t, path)
	r := almaAppReport()
	got, err := (&Engine{Ignores: []*IgnoreFile{ign}, Now: fixedNow}).Evaluate(context.Background(), r.Result())
	if err != nil {
		t.Fatal(err)
	}
	sup := func(reason string) []finding.Annotation {
		return []finding.Annotation{{Kind: vocab.AnnotationSuppressed, Source: path, Reason: reason}}
	}
	want := map[string][]finding.Annotation{
		// CVE-2021-44228 is an alias of GHSA-jfh8-c2jp-5v3q, in that jar.
		"GHSA-jfh8-c2jp-5v3q@Maven/org.apache.logging.log4j:log4j-core@2.14.1": sup("The JNDI lookup class is removed from this jar"),
		keys(r, "ALSA-2023:5071", "libcap")[0]:                                 sup("libcap is not used by the application"),
		"DD-IMG-006":                                                           sup("Healthchecks are defined in the Kubernetes manifests"),
		SecretKey(&r.Secrets[0]):                                               sup("A canary key that alerts when used"),
	}
	if d := cmp.Diff(want, annotationsByKey(r)); d != "" {
		t.Errorf("annotations (-want +got):\n%s", d)
	}
	// The glibc entry expired on 2025-01-01: it no longer applies, and the
	// verdict says so with the file and line.
	wantExpired := []string{path + ":8: ignore CVE-2023-4911 in packages pkg:rpm/almalinux/glibc expired 2025-01-01"}
	if d := cmp.Diff(wantExpired, got.Expired); d != "" {
		t.Errorf("expired (-want +got):\n%s", d)
	}
	// The licenses section's entries apply to licence findings
	// (TestTrivyIgnoreLicences); this report has none.
	if len(ign.Entries) != 7 {
		t.Errorf("%d entries, want 7 (5 and the 2 licenses)", len(ign.Entries))
	}
}

// TestTrivyIgnoreSections: an entry applies only to its section's kind of
// result, so a paths-only entry never hides another kind of result in the
// same place; a vulnerabilities entry allows malware it names by ID.
func TestTrivyIgnoreSections(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // keys of what is annotated
	}{
		{"secrets paths do not hide vulnerabilities", "secrets:\n  - paths: [\"app/lib/**\"]\n", nil},
		{"vulnerabilities paths do not hide secrets", "vulnerabilities:\n  - paths: [\"app/.env\"]\n", nil},
		{"vulnerabilities paths hide vulnerabilities", "vulnerabilities:\n  - paths: [\"app/lib/**\"]\n",
			[]string{"GHSA-jfh8-c2jp-5v3q@Maven/org.apache.logging.log4j:log4j-core@2.14.1", "GHSA-p6xc-xr62-6r2g@Maven/org.apache.logging.log4j:log4j-core@2.14.1"}},
		{"secrets paths hide secrets", "secrets:\n  - paths: [\"/app/.env\"]\n", []string{"secret"}},
		{"a secret rule under misconfigurations", "misconfigurations:\n  - id: aws-access-key-id\n", nil},
		{"a check under secrets", "secrets:\n  - id: DD-IMG-006\n", nil},
		{"a check under misconfigurations", "misconfigurations:\n  - id: DD-IMG-006\n", []string{"DD-IMG-006"}},
		{"malware named under vulnerabilities", "vulnerabilities:\n  - id: MAL-2025-1\n    statement: a test fixture\n", []string{"MAL-2025-1"}},
		{"malware named under secrets", "secrets:\n  - id: MAL-2025-1\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ign, err := ParseIgnoreFile(".trivyignore.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			r := almaAppReport()
			res := r.Result()
			res.Malware = []finding.Malware{{Kind: vocab.MalwarePackage, ID: "MAL-2025-1", Severity: vocab.SevCritical,
				Package: &finding.PackageRef{Name: "evil", Version: "1.0.0", Ecosystem: "npm", PURL: "pkg:npm/evil@1.0.0", Path: "/app/node_modules/evil/package.json"}}}
			if _, err := (&Engine{Ignores: []*IgnoreFile{ign}, Now: fixedNow}).Evaluate(context.Background(), res); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Findings {
				if len(f.Annotations) > 0 {
					got = append(got, f.Key())
				}
			}
			for _, s := range res.Secrets {
				if len(s.Annotations) > 0 {
					got = append(got, "secret")
				}
			}
			for _, m := range res.Misconfigs {
				if len(m.Annotations) > 0 {
					got = append(got, m.ID)
				}
			}
			for _, m := range res.Malware {
				if len(m.Annotations) > 0 {
					got = append(got, m.ID)
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("annotated (-want +got):\n%s", d)
			}
		})
	}
}

// TestTrivyIgnoreDetection: the format is told by the content, whatever
// the file's name; drydock's own YAML is unchanged.
func TestTrivyIgnoreDetection(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		trivy      bool
	}{
		{".trivyignore.yaml", "vulnerabilities:\n  - id: CVE-2023-42366\n", true},
		{".trivyignore", "secrets:\n  - id: aws-access-key-id\n", true},
		{"ignore.yml", "misconfigurations: []\nlicenses:\n  - id: MIT\n", true},
		{".drydockignore.yaml", "ignores:\n  - id: CVE-2023-42366\n    reason: r\n", false},
		{".trivyignore", "CVE-2023-42366\n", false},
	} {
		f, err := ParseIgnoreFile(tc.name, []byte(tc.data))
		if err != nil {
			t.Errorf("%s %q: %v", tc.name, tc.data, err)
			continue
		}
		trivy := len(f.Entries) == 0 || f.Entries[0].kinds != 0
		if trivy != tc.trivy {
			t.Errorf("%s %q: read as Trivy's YAML = %v, want %v", tc.name, tc.data, trivy, tc.trivy)
		}
	}
}

func TestTrivyIgnoreErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"vulnerabilities:\n  - statement: nothing to match\n", ".trivyignore.yaml:2:5: vulnerabilities: an entry needs an id, purls or paths"},
		{"secrets:\n  - id: aws-access-key-id\n    purls: [pkg:npm/x]\n", "secrets: purls apply to vulnerabilities only"},
		{"vulnerabilities:\n  - id: CVE-1\n    purls: [libssl]\n", `"libssl" is not a package URL`},
		{"vulnerabilities:\n  - id: CVE-1\n    expired_at: next year\n", `invalid expiry "next year"`},
		{"licenses:\n  - id: MIT\n    expired_at: 01/02/2025\n", `licenses: invalid expiry`},
		{"vulnerabilities:\n  - id: CVE-1\n    reason: not a Trivy field\n", "field reason not found"},
		{"vulnerabilities:\n  - id: \"CVE-1 CVE-2\"\n", `invalid id "CVE-1 CVE-2"`},
	} {
		_, err := ParseIgnoreFile(".trivyignore.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.yaml, err, tc.want)
		}
	}
}
