package policy

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/vocab"
)

func mustIgnore(t *testing.T, path string) *IgnoreFile {
	t.Helper()
	f, err := LoadIgnoreFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// annotationsByKey returns the annotations of every finding, secret and
// misconfiguration that has any.
func annotationsByKey(r *report.Report) map[string][]finding.Annotation {
	out := map[string][]finding.Annotation{}
	for i := range r.Findings {
		if a := r.Findings[i].Annotations; len(a) > 0 {
			out[r.Findings[i].Key()] = a
		}
	}
	for i := range r.Secrets {
		if a := r.Secrets[i].Annotations; len(a) > 0 {
			out[SecretKey(&r.Secrets[i])] = a
		}
	}
	for i := range r.Misconfigs {
		if a := r.Misconfigs[i].Annotations; len(a) > 0 {
			out[r.Misconfigs[i].ID] = a
		}
	}
	return out
}

func TestIgnoreYAML(t *testing.T) {
	const path = "testdata/ignore/drydockignore.yaml"
	ign := mustIgnore(t, path)
	sup := func(reason, expires string) []finding.Annotation {
		return []finding.Annotation{{Kind: vocab.AnnotationSuppressed, Source: path, Reason: reason, Expires: expires}}
	}
	busybox := sup("busybox shell not reachable in this image", "2027-03-01")
	// The entry names CVE-2023-4911, one of the four CVEs ALSA-2023:5453
	// fixes: it is recorded on the finding, which still counts.
	glibc := []finding.Annotation{{Kind: AnnotationIgnoredInPart, Source: path, Status: "ignored (CVE-2023-4911)",
		Reason: "glibc-common and the langpack ship no code that reads GLIBC_TUNABLES"}}
	expiredPaths := path + `:14: ignore paths /app/lib/** expired 2025-06-30`

	t.Run("alpine", func(t *testing.T) {
		r := alpineReport()
		got, err := (&Engine{Gate: Gate{Severities: []string{"MEDIUM"}, ExitCode: 1}, Ignores: []*IgnoreFile{ign}, Now: fixedNow}).
			Evaluate(context.Background(), r.Result())
		if err != nil {
			t.Fatal(err)
		}
		// busybox is ignored; ssl_client (same CVE, same origin) is not.
		want := &report.Verdict{ExitCode: 1,
			Failures: []report.RuleResult{{RuleID: GateSeverity, Action: ActionDeny,
				Message: "1 vulnerability of severity MEDIUM remain (--exit-code 1)",
				Targets: keys(r, "CVE-2023-42366", "ssl_client")}},
			Warnings: []report.RuleResult{{RuleID: WarnExpired, Action: ActionWarn, Message: expiredPaths + " and no longer applies"}},
			Expired:  []string{expiredPaths},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("verdict (-want +got):\n%s", diff)
		}
		wantAnn := map[string][]finding.Annotation{keys(r, "CVE-2023-42366", "busybox")[0]: busybox}
		if diff := cmp.Diff(wantAnn, annotationsByKey(r)); diff != "" {
			t.Errorf("annotations (-want +got):\n%s", diff)
		}
	})

	t.Run("alma app, paths entry still valid", func(t *testing.T) {
		r := almaAppReport()
		now := time.Date(2025, 6, 30, 23, 0, 0, 0, time.UTC)
		got, err := (&Engine{Policies: []*Policy{mustPolicy(t, "builtin:kev")}, Ignores: []*IgnoreFile{ign},
			Now: func() time.Time { return now }}).Evaluate(context.Background(), r.Result())
		if err != nil {
			t.Fatal(err)
		}
		vendored := sup("vendored jars are scanned in their own pipeline", "2025-06-30")
		wantAnn := map[string][]finding.Annotation{
			keys(r, "ALSA-2023:5453", "glibc-common")[0]:                           glibc,
			keys(r, "ALSA-2023:5453", "glibc-minimal-langpack")[0]:                 glibc,
			"GHSA-jfh8-c2jp-5v3q@Maven/org.apache.logging.log4j:log4j-core@2.14.1": vendored,
			"GHSA-p6xc-xr62-6r2g@Maven/org.apache.logging.log4j:log4j-core@2.14.1": vendored,
			// The secret in /app/.env is not under /app/lib.
			"DD-IMG-006": sup("healthchecks are defined in the Kubernetes manifests", ""),
		}
		if diff := cmp.Diff(wantAnn, annotationsByKey(r)); diff != "" {
			t.Errorf("annotations (-want +got):\n%s", diff)
		}
		// Every glibc package is left for builtin:kev.
		var kev []report.RuleResult
		for _, n := range []string{"glibc", "glibc-common", "glibc-minimal-langpack"} {
			kev = append(kev, report.RuleResult{RuleID: "kev", Action: ActionDeny,
				Message: "ALSA-2023:5453 in " + n + " 2.34-28.el9_0 is known to be exploited (CISA KEV)",
				Targets: keys(r, "ALSA-2023:5453", n)})
		}
		want := &report.Verdict{ExitCode: 1, Failures: kev}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("verdict (-want +got):\n%s", diff)
		}
	})

	t.Run("expired ignore re-fails the gate", func(t *testing.T) {
		for _, tt := range []struct {
			now  time.Time
			pass bool
		}{
			{time.Date(2027, 3, 1, 23, 59, 0, 0, time.UTC), true}, // valid through the expiry date
			{time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC), false},
		} {
			r := alpineReport()
			r.Findings = r.Findings[:1] // busybox only
			got, err := (&Engine{Gate: Gate{ExitCode: 1}, Ignores: []*IgnoreFile{ign}, Now: func() time.Time { return tt.now }}).
				Evaluate(context.Background(), r.Result())
			if err != nil {
				t.Fatal(err)
			}
			if got.Pass != tt.pass {
				t.Errorf("now %v: pass = %v, want %v (%+v)", tt.now, got.Pass, tt.pass, got)
			}
			wantExpired := []string{path + ":5: ignore CVE-2023-42366 in packages pkg:apk/alpine/busybox expired 2027-03-01", expiredPaths}
			if tt.pass {
				wantExpired = wantExpired[1:]
			} else if len(r.Findings[0].Annotations) != 0 {
				t.Errorf("expired ignore still annotates: %+v", r.Findings[0].Annotations)
			}
			if diff := cmp.Diff(wantExpired, got.Expired); diff != "" {
				t.Errorf("now %v: expired (-want +got):\n%s", tt.now, diff)
			}
		}
	})
}

func TestIgnoreText(t *testing.T) {
	const path = "testdata/ignore/trivyignore"
	ign := mustIgnore(t, path)
	want := []IgnoreEntry{
		{ID: "CVE-2023-42366", Reason: "busybox awk is not used by the application", Expires: "2027-03-01", Line: 4},
		{ID: "ALSA-2023:5071", Expires: "2025-01-01", Line: 6},
		{ID: "aws-access-key-id", Reason: "a canary key that alerts when used", Line: 7},
	}
	if diff := cmp.Diff(want, ign.Entries, cmp.Comparer(func(a, b IgnoreEntry) bool {
		return a.ID == b.ID && a.Reason == b.Reason && a.Expires == b.Expires && a.Line == b.Line &&
			len(a.Packages) == 0 && len(b.Paths) == 0
	})); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	r := almaAppReport()
	r.Findings = append(r.Findings, alpineReport().Findings...)
	got, err := (&Engine{Gate: Gate{FailOn: "medium"}, Ignores: []*IgnoreFile{ign}, Now: fixedNow}).Evaluate(context.Background(), r.Result())
	if err != nil {
		t.Fatal(err)
	}
	ann := annotationsByKey(r)
	for _, k := range []string{keys(r, "CVE-2023-42366", "busybox")[0], keys(r, "CVE-2023-42366", "ssl_client")[0], "aws-access-key-id@/app/.env:3"} {
		if len(ann[k]) != 1 || ann[k][0].Kind != vocab.AnnotationSuppressed || ann[k][0].Source != path {
			t.Errorf("%s: annotations %+v, want one suppression from %s", k, ann[k], path)
		}
	}
	if k := keys(r, "ALSA-2023:5071", "libcap")[0]; len(ann[k]) != 0 {
		t.Errorf("%s: expired entry applied: %+v", k, ann[k])
	}
	wantWarnings := []report.RuleResult{
		{RuleID: WarnExpired, Action: ActionWarn, Message: path + ":6: ignore ALSA-2023:5071 expired 2025-01-01 and no longer applies"},
	}
	if diff := cmp.Diff(wantWarnings, got.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if got.Pass {
		t.Errorf("gate passed with unignored MEDIUM and HIGH findings")
	}
}

func TestIgnoreMissingReason(t *testing.T) {
	ign, err := ParseIgnoreFile(".trivyignore", []byte("CVE-2023-42366\n\n# why\nCVE-2023-4911\nDD-IMG-006\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&Engine{Ignores: []*IgnoreFile{ign}, Now: fixedNow}).Evaluate(context.Background(), alpineReport().Result())
	if err != nil {
		t.Fatal(err)
	}
	// A comment block explains the next entry only: "# why" gives
	// CVE-2023-4911 a reason, not DD-IMG-006 below it.
	want := []report.RuleResult{{RuleID: WarnIgnoreNoReason, Action: ActionWarn,
		Message: "2 ignore entries in .trivyignore give no reason", Targets: []string{".trivyignore:1", ".trivyignore:5"}}}
	if diff := cmp.Diff(want, got.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestIgnoreErrors(t *testing.T) {
	tests := []struct {
		name, file, src, want string
	}{
		{"unknown key", "i.yaml", "ignores:\n  - id: CVE-1\n    reasons: typo\n", "i.yaml: yaml: unmarshal errors:\n  line 3: field reasons not found"},
		{"empty entry", "i.yaml", "ignores:\n  - reason: everything\n", "i.yaml:2:5: ignore entry needs an id, packages or paths"},
		{"bad purl", "i.yaml", "ignores:\n  - packages: ['pkg:']\n", `i.yaml:2:5: invalid package URL "pkg:"`},
		{"bad expiry", "i.yaml", "ignores:\n  - id: CVE-1\n    expires: 31/12/2026\n", `i.yaml:2:5: invalid expiry "31/12/2026"`},
		{"bad id", "i.yaml", "ignores:\n  - id: 'CVE 1'\n", `i.yaml:2:5: invalid id "CVE 1"`},
		{"empty glob", "i.yaml", "ignores:\n  - paths: ['']\n", "i.yaml:2:5: empty path glob"},
		{"wrong kind", "i.yaml", "kind: Policy\nignores: []\n", `i.yaml: kind is "Policy"`},
		{"not a mapping", "i.yaml", "- CVE-1\n", "i.yaml: yaml: unmarshal errors"},
		{"YAML sniffed without extension", ".drydockignore", "ignores:\n  - id: [x]\n", ".drydockignore: yaml: unmarshal errors"},
		{"broken YAML sniffed", ".drydockignore", "ignores:\n  - id: 'x\n", ".drydockignore: yaml:"},
		{"two IDs on a line", ".trivyignore", "CVE-1 CVE-2\n", `.trivyignore:1:1: unexpected "CVE-2" after "CVE-1"`},
		{"JSON is YAML", ".trivyignore", "{\"ignores\": 1}\n", ".trivyignore: yaml: unmarshal errors"},
		{"junk", ".trivyignore", "<html>\n", `.trivyignore:1:1: invalid id "<html>"`},
		{"exp only", ".trivyignore", "exp:2026-01-01\n", ".trivyignore:1:1: missing ID"},
		{"bad exp", ".trivyignore", "CVE-1 exp:tomorrow\n", `.trivyignore:1:1: invalid expiry "tomorrow"`},
		{"two exp", ".trivyignore", "CVE-1 exp:2026-01-01 exp:2027-01-01\n", ".trivyignore:1:1: more than one exp: field"},
		{"binary", ".trivyignore", "\xff\xfe\x00C", `ignore file ".trivyignore": not UTF-8 text`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseIgnoreFile(tt.file, []byte(tt.src))
			if err == nil {
				t.Fatalf("no error, got %+v", f.Entries)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n%s\nwant prefix:\n%s", err, tt.want)
			}
		})
	}
	if _, err := LoadIgnoreFile("testdata/ignore/missing"); err == nil || !strings.Contains(err.Error(), "testdata/ignore/missing") {
		t.Errorf("LoadIgnoreFile(missing) = %v, want an error naming the file", err)
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		glob, path string
		want       bool
	}{
		{"/app/lib/**", "/app/lib/log4j-core-2.14.1.jar", true},
		{"/app/lib/**", "/app/lib/x/y.jar", true},
		{"/app/lib/*", "/app/lib/x/y.jar", false},
		{"/app/lib/*.jar", "/app/lib/a.jar", true},
		{"/app/**/*.jar", "/app/lib/a.jar", true},
		{"/app/?.jar", "/app/a.jar", true},
		{"/app/?.jar", "/app/ab.jar", false},
		{"/usr/lib/node_modules/[a]/**", "/usr/lib/node_modules/[a]/x", true},
		{"/a+b/(c)", "/a+b/(c)", true},
		{"/a+b/(c)", "/aab/c", false},
	}
	for _, tt := range tests {
		re, err := globRegexp(tt.glob)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.MatchString(tt.path); got != tt.want {
			t.Errorf("glob %q on %q = %v, want %v", tt.glob, tt.path, got, tt.want)
		}
	}
}

// TestIgnoreVendorAdvisory: an ignore entry for one CVE of a vendor advisory
// that fixes several (ALSA-2023:5453: CVE-2023-4911, -4527, -4806, -4813;
// see TestVEXVendorAdvisory for the real record) records that CVE on the
// finding and suppresses it only once entries, in one file or several, name
// every CVE. Trivy reports such errata per CVE, so a .trivyignore line for
// CVE-2023-4911 hides only that CVE there too.
func TestIgnoreVendorAdvisory(t *testing.T) {
	part := func(src, cve, reason string) finding.Annotation {
		return finding.Annotation{Kind: AnnotationIgnoredInPart, Source: src, Status: "ignored (" + cve + ")", Reason: reason}
	}
	sup := func(src, reason, expires string) finding.Annotation {
		return finding.Annotation{Kind: vocab.AnnotationSuppressed, Source: src, Reason: reason, Expires: expires}
	}
	const a, b = "a.trivyignore", "b.yaml"
	tests := []struct {
		name       string
		files      map[string]string
		pkg, id    string
		want       []finding.Annotation
		wantExpiry []string
	}{
		{
			name:  "one CVE of four: recorded, still counts",
			files: map[string]string{a: "# no setuid binaries\nCVE-2023-4911\n"},
			pkg:   "glibc", id: "ALSA-2023:5453",
			want: []finding.Annotation{part(a, "CVE-2023-4911", "no setuid binaries")},
		},
		{
			name:  "every CVE in one file: suppressed by the last",
			files: map[string]string{a: "# r1\nCVE-2023-4911\n# r2\ncve-2023-4527\n# r3\nCVE-2023-4806\n# r4\nCVE-2023-4813 exp:2027-01-01\n"},
			pkg:   "glibc", id: "ALSA-2023:5453",
			want: []finding.Annotation{part(a, "CVE-2023-4911", "r1"), part(a, "CVE-2023-4527", "r2"), part(a, "CVE-2023-4806", "r3"),
				sup(a, "r4", "2027-01-01")},
		},
		{
			name: "every CVE across two files: suppressed",
			files: map[string]string{
				a: "# r1\nCVE-2023-4911\n# r2\nCVE-2023-4527\n",
				b: "ignores:\n  - {id: CVE-2023-4806, reason: r3, packages: [glibc]}\n  - {id: CVE-2023-4813, reason: r4}\n",
			},
			pkg: "glibc", id: "ALSA-2023:5453",
			want: []finding.Annotation{part(a, "CVE-2023-4911", "r1"), part(a, "CVE-2023-4527", "r2"), part(b, "CVE-2023-4806", "r3"),
				sup(b, "r4", "")},
		},
		{
			name:  "every CVE, one entry expired: still counts",
			files: map[string]string{a: "# r1\nCVE-2023-4911\n# r2\nCVE-2023-4527 exp:2026-01-01\n# r3\nCVE-2023-4806\n# r4\nCVE-2023-4813\n"},
			pkg:   "glibc", id: "ALSA-2023:5453",
			want:       []finding.Annotation{part(a, "CVE-2023-4911", "r1"), part(a, "CVE-2023-4806", "r3"), part(a, "CVE-2023-4813", "r4")},
			wantExpiry: []string{a + ":4: ignore CVE-2023-4527 expired 2026-01-01"},
		},
		{
			name:  "an entry for another package does not count",
			files: map[string]string{b: "ignores:\n  - {id: CVE-2023-4911, reason: r, packages: [glibc-common]}\n"},
			pkg:   "glibc", id: "ALSA-2023:5453",
			want: nil,
		},
		{
			name:  "the advisory by its own ID: suppressed",
			files: map[string]string{a: "# accepted until the rebuild\nALSA-2023:5453\n"},
			pkg:   "glibc", id: "ALSA-2023:5453",
			want: []finding.Annotation{sup(a, "accepted until the rebuild", "")},
		},
		{
			name:  "an advisory with one CVE is covered by it",
			files: map[string]string{a: "# not used\nCVE-2023-29491\n"},
			pkg:   "ncurses-libs", id: "ALSA-2023:6698",
			want: []finding.Annotation{sup(a, "not used", "")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var files []*IgnoreFile
			for _, name := range slices.Sorted(maps.Keys(tt.files)) {
				f, err := ParseIgnoreFile(name, []byte(tt.files[name]))
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
			r := almaReport()
			got, err := (&Engine{Gate: Gate{ExitCode: 1}, Ignores: files, Now: fixedNow}).Evaluate(context.Background(), r.Result())
			if err != nil {
				t.Fatal(err)
			}
			f := findingOf(t, r, tt.id, tt.pkg)
			if diff := cmp.Diff(tt.want, f.Annotations); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
			suppressed := len(tt.want) > 0 && tt.want[len(tt.want)-1].Kind == vocab.AnnotationSuppressed
			if f.Suppressed() != suppressed {
				t.Errorf("suppressed = %v, want %v", f.Suppressed(), suppressed)
			}
			if diff := cmp.Diff(tt.wantExpiry, got.Expired); diff != "" {
				t.Errorf("expired (-want +got):\n%s", diff)
			}
		})
	}
}
