package writer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// copaV1alpha2 mirrors Copacetic's UpdateManifest v1alpha2 as
// project-copacetic/copacetic defines it in pkg/types/v1alpha2/types.go
// (read at commit 6d8445170c96f97465ef4b15af9836467982a425). It is a copy
// on purpose, not the writer's types: decoding the output into it strictly
// checks the writer against Copacetic's shape, not against itself.
type copaV1alpha2 struct {
	APIVersion string `json:"apiVersion"`
	Metadata   struct {
		OS struct {
			Type    string `json:"type"`
			Version string `json:"version"`
		} `json:"os"`
		Config struct {
			Arch    string `json:"arch"`
			Variant string `json:"variant,omitempty"`
		} `json:"config"`
	} `json:"metadata"`
	OSUpdates   []copaV1alpha2Package `json:"osupdates"`
	LangUpdates []copaV1alpha2Package `json:"langupdates"`
}

type copaV1alpha2Package struct {
	Name             string `json:"name"`
	InstalledVersion string `json:"installedVersion"`
	FixedVersion     string `json:"fixedVersion"`
	VulnerabilityID  string `json:"vulnerabilityID"`
	Type             string `json:"type"`
	Class            string `json:"class"`
}

// decodeCopa decodes doc into Copacetic's v1alpha2 types, rejecting any
// key they do not have, and checks that every key they have is present
// (variant is omitempty in Copacetic, so it may be missing): a decode alone
// would accept a document that leaves fields out.
func decodeCopa(t *testing.T, doc []byte) copaV1alpha2 {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	var m copaV1alpha2
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("the copa report is not a v1alpha2 UpdateManifest: %v\n%s", err, doc)
	}
	if dec.More() {
		t.Fatal("the copa report has more than one JSON value")
	}
	var raw struct {
		APIVersion *string `json:"apiVersion"`
		Metadata   *struct {
			OS     map[string]json.RawMessage `json:"os"`
			Config map[string]json.RawMessage `json:"config"`
		} `json:"metadata"`
		OSUpdates   []map[string]json.RawMessage `json:"osupdates"`
		LangUpdates []map[string]json.RawMessage `json:"langupdates"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.APIVersion == nil || raw.Metadata == nil || raw.OSUpdates == nil || raw.LangUpdates == nil {
		t.Fatalf("apiVersion, metadata, osupdates and langupdates must all be present (as lists):\n%s", doc)
	}
	need := func(obj map[string]json.RawMessage, where string, keys ...string) {
		for _, k := range keys {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s has no %q", where, k)
			}
		}
	}
	need(raw.Metadata.OS, "metadata.os", "type", "version")
	need(raw.Metadata.Config, "metadata.config", "arch")
	for i, u := range append(raw.OSUpdates, raw.LangUpdates...) {
		need(u, fmt.Sprintf("update %d", i), "name", "installedVersion", "fixedVersion", "vulnerabilityID", "type", "class")
	}
	if m.APIVersion != "v1alpha2" {
		t.Errorf("apiVersion = %q, want v1alpha2", m.APIVersion)
	}
	return m
}

func TestCopaGolden(t *testing.T) {
	for name, r := range map[string]*report.Report{"alpine": reporttest.Alpine(), "almalinux": reporttest.AlmaLinux()} {
		t.Run(name, func(t *testing.T) {
			before := cloneReport(t, r)
			got := render(t, "copa", r, Options{})
			decodeCopa(t, got)
			path := filepath.Join("testdata", "golden", name+".copa.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs from the golden file (-want +got; go test -update rewrites it):\n%s", path, diff)
			}
			if again := render(t, "copa", r, Options{}); !bytes.Equal(got, again) {
				t.Error("output is not deterministic")
			}
			if diff := cmp.Diff(before, r); diff != "" {
				t.Errorf("the writer modified the report (-before +after):\n%s", diff)
			}
		})
	}
}

// TestCopaContent says what goes in, independently of the golden files.
func TestCopaContent(t *testing.T) {
	type upd = copaV1alpha2Package
	alma := reporttest.AlmaLinux()

	// Two more glibc findings: one needing a lower fix, one a higher fix
	// that only an rpm comparison ranks above "2.34-60.el9_2.7" ("100" <
	// "60" as strings); an unfixed bash finding; a suppressed ncurses one.
	multi := reporttest.AlmaLinux()
	glibc := multi.Findings[0]
	lower, higher := glibc, glibc
	lower.ID, lower.Aliases, lower.FixedVersion = "ALSA-2022:0001", nil, "2.34-28.el9_0.2"
	higher.ID, higher.Aliases, higher.FixedVersion = "ALSA-2024:0002", nil, "2.34-100.el9_4"
	unfixed := glibc
	unfixed.ID, unfixed.FixedVersion, unfixed.Status = "CVE-2099-0001", "", vocab.StatusAffected
	unfixed.Package.Name = "bash"
	multi.Findings = append(multi.Findings, lower, higher, unfixed)
	for i := range multi.Findings {
		if multi.Findings[i].Package.Name == "ncurses-libs" {
			multi.Findings[i].Annotations = append(multi.Findings[i].Annotations,
				finding.Annotation{Kind: vocab.AnnotationSuppressed, Source: ".drydockignore", Reason: "ignored"})
		}
	}

	glibcWant := upd{Name: "glibc", InstalledVersion: "2.34-28.el9_0", FixedVersion: "2.34-60.el9_2.7", VulnerabilityID: "ALSA-2023:5453", Type: "rpm", Class: "os-pkgs"}
	libcapWant := upd{Name: "libcap", InstalledVersion: "2.48-8.el9", FixedVersion: "2.48-9.el9_2", VulnerabilityID: "ALSA-2023:5071", Type: "rpm", Class: "os-pkgs"}
	ncursesWant := upd{Name: "ncurses-libs", InstalledVersion: "6.2-8.20210508.el9", FixedVersion: "6.2-10.20210508.el9", VulnerabilityID: "ALSA-2023:6698", Type: "rpm", Class: "os-pkgs"}
	glibcHigher := glibcWant
	glibcHigher.FixedVersion, glibcHigher.VulnerabilityID = "2.34-100.el9_4", "ALSA-2024:0002"

	for _, tc := range []struct {
		name              string
		r                 *report.Report
		opt               Options
		osType, osVersion string
		arch, variant     string
		want              []upd
	}{
		// The Go, npm and lodash findings are language packages: left out.
		{"almalinux", alma, Options{}, "almalinux", "9.0", "arm64", "v8", []upd{glibcWant, libcapWant, ncursesWant}},
		{"alpine", reporttest.Alpine(), Options{}, "alpine", "3.16.9", "amd64", "", []upd{
			{Name: "busybox", InstalledVersion: "1.35.0-r17", FixedVersion: "1.35.0-r18", VulnerabilityID: "CVE-2023-42366", Type: "apk", Class: "os-pkgs"},
			{Name: "ssl_client", InstalledVersion: "1.35.0-r17", FixedVersion: "1.35.0-r18", VulnerabilityID: "CVE-2023-42366", Type: "apk", Class: "os-pkgs"},
		}},
		// One update per package, the highest fix; no unfixed, no suppressed.
		{"highest fix", multi, Options{}, "almalinux", "9.0", "arm64", "v8", []upd{glibcHigher, libcapWant}},
		{"show suppressed", multi, Options{ShowSuppressed: true}, "almalinux", "9.0", "arm64", "v8", []upd{glibcHigher, libcapWant, ncursesWant}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeCopa(t, render(t, "copa", tc.r, tc.opt))
			if m.Metadata.OS.Type != tc.osType || m.Metadata.OS.Version != tc.osVersion {
				t.Errorf("metadata.os = %+v, want %s %s", m.Metadata.OS, tc.osType, tc.osVersion)
			}
			if m.Metadata.Config.Arch != tc.arch || m.Metadata.Config.Variant != tc.variant {
				t.Errorf("metadata.config = %+v, want %s %s", m.Metadata.Config, tc.arch, tc.variant)
			}
			if diff := cmp.Diff(tc.want, m.OSUpdates); diff != "" {
				t.Errorf("osupdates (-want +got):\n%s", diff)
			}
			if len(m.LangUpdates) != 0 {
				t.Errorf("langupdates = %+v, want none", m.LangUpdates)
			}
		})
	}
}

func TestCopaNeedsDistro(t *testing.T) {
	r := reporttest.Alpine()
	r.Distro = nil
	var buf bytes.Buffer
	err := Write(&buf, "copa", r, Options{})
	if !errors.Is(err, ErrNoDistro) {
		t.Fatalf("Write(copa) without a distro = %v, want ErrNoDistro", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %q on error", buf.String())
	}
}
