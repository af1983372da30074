package main

import (
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// trivyFlags are the flags of `trivy image`, `trivy filesystem` and `trivy
// sbom` (with the global ones) as their CLI reference pages list them: the
// version docs/trivy-users.md says it was read from. The table must have a
// row for each, and no row for a flag not listed here, so that reading a
// newer Trivy means updating this list and the table together.
var trivyFlags = []string{
	"cacert", "cache-backend", "cache-dir", "cache-ttl", "cf-params", "check-namespaces",
	"checks-bundle-repository", "compliance", "config", "config-check", "config-data",
	"config-file-schemas", "custom-headers", "db-repository", "debug", "dependency-tree",
	"detection-priority", "disable-telemetry", "distro", "docker-host", "download-db-only",
	"download-java-db-only", "enable-modules", "exit-code", "exit-on-eol", "file-patterns", "format",
	"generate-default-config", "helm-api-versions", "helm-kube-version", "helm-set", "helm-set-file",
	"helm-set-string", "helm-values", "help", "ignore-policy", "ignore-status", "ignore-unfixed",
	"ignored-licenses", "ignorefile", "image-config-scanners", "image-src", "include-deprecated-checks",
	"include-dev-deps", "include-non-failures", "input", "insecure", "java-db-repository",
	"license-confidence-level", "license-full", "list-all-pkgs", "max-image-size", "misconfig-scanners",
	"module-dir", "no-color", "no-progress", "offline-scan", "output", "output-plugin-arg", "parallel",
	"password", "password-stdin", "pkg-relationships", "pkg-types", "platform", "podman-host", "quiet",
	"raw-config-scanners", "redis-ca", "redis-cert", "redis-key", "redis-tls", "registry-token",
	"rego-error-limit", "rekor-url", "removed-pkgs", "render-cause", "report", "sbom-sources", "scanners",
	"secret-config", "server", "severity", "show-suppressed", "skip-check-update", "skip-db-update",
	"skip-dirs", "skip-files", "skip-java-db-update", "skip-version-check", "skip-vex-repo-update",
	"table-mode", "template", "tf-exclude-downloaded-modules", "tf-vars", "timeout", "token",
	"token-header", "trace-rego", "username", "version", "vex", "vuln-severity-source",
}

// docRow is one row of a Markdown table of the document.
type docRow struct {
	line   int
	header []string // the table's header cells
	cells  []string
}

func (r docRow) col(name string) string {
	for i, h := range r.header {
		if strings.HasPrefix(h, name) && i < len(r.cells) {
			return r.cells[i]
		}
	}
	return ""
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

func spans(cell string) []string {
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}

// docTables returns the rows of every Markdown table in md.
func docTables(md string) []docRow {
	var rows []docRow
	var header []string
	for i, line := range strings.Split(md, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			header = nil
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			cells = append(cells, strings.TrimSpace(c))
		}
		switch {
		case header == nil:
			header = cells
		case strings.HasPrefix(cells[0], "---"):
		default:
			rows = append(rows, docRow{line: i + 1, header: header, cells: cells})
		}
	}
	return rows
}

// docCommand resolves a "drydock CMD… [--flag…] [args]" span against the
// command tree: the command and the flags it names.
func docCommand(root *cobra.Command, span string) (*cobra.Command, []string, bool) {
	words := strings.Fields(span)[1:]
	c := root
	for len(words) > 0 && !strings.HasPrefix(words[0], "-") {
		var next *cobra.Command
		for _, sub := range c.Commands() {
			if sub.Name() == words[0] || sub.HasAlias(words[0]) {
				next = sub
			}
		}
		if next == nil {
			break
		}
		c, words = next, words[1:]
	}
	if c == root {
		return nil, nil, false
	}
	var flags []string
	for _, w := range words {
		if name, ok := strings.CutPrefix(w, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			flags = append(flags, name)
		}
	}
	return c, flags, true
}

func hasFlag(c *cobra.Command, name string) bool {
	c.InitDefaultHelpFlag()
	return c.Flags().Lookup(name) != nil || c.InheritedFlags().Lookup(name) != nil
}

// TestTrivyUsersTable checks docs/trivy-users.md against drydock's real
// command tree, so that it cannot go stale either way: every drydock
// command, flag, variable and config key it names exists (and the variable
// and key are those of the flags named in the same row), every flag of
// `drydock image` is in it, every Trivy flag of the version it was read
// from has exactly one row with a status, and every status but "same" says
// why.
func TestTrivyUsersTable(t *testing.T) {
	md, err := os.ReadFile("../../docs/trivy-users.md")
	if err != nil {
		t.Fatal(err)
	}
	root := newRoot(&env{stdout: io.Discard, stderr: io.Discard})
	known := allFlags(root)
	known["config"] = true
	status := regexp.MustCompile(`^\*\*(same|equivalent|accepted|partly|next|not supported|not needed)\*\*(.*)$`)

	imageFlags := map[string]bool{} // flags of `drydock image` the document names
	trivyRows := map[string]int{}
	for _, r := range docTables(string(md)) {
		// Every drydock span: the command and its flags exist.
		var rowFlags []string
		for _, cell := range r.cells {
			for _, s := range spans(cell) {
				if !strings.HasPrefix(s, "drydock ") {
					continue
				}
				c, flags, ok := docCommand(root, s)
				if !ok {
					t.Errorf("line %d: %q names no drydock command", r.line, s)
					continue
				}
				for _, f := range flags {
					if !hasFlag(c, f) {
						t.Errorf("line %d: %q: %q has no flag --%s", r.line, s, c.CommandPath(), f)
					}
					if c.Name() == "image" && c.Parent() == root {
						imageFlags[f] = true
					}
				}
				rowFlags = append(rowFlags, flags...)
			}
		}
		// Variables and keys: those of a flag named in the row.
		for _, s := range spans(r.col("drydock env")) {
			if v, ok := strings.CutPrefix(s, "DRYDOCK_"); ok {
				if !slices.ContainsFunc(rowFlags, func(f string) bool { return envName(f) == "DRYDOCK_"+v }) {
					t.Errorf("line %d: %s is not the variable of a flag of the row (%v)", r.line, s, rowFlags)
				}
				continue
			}
			path := strings.Split(s, ".")
			if !slices.Contains(rowFlags, path[len(path)-1]) {
				t.Errorf("line %d: config key %q is not a flag of the row (%v)", r.line, s, rowFlags)
			}
			var m map[string]any = map[string]any{path[len(path)-1]: 1}
			for i := len(path) - 2; i >= 0; i-- {
				m = map[string]any{path[i]: m}
			}
			if unknown := unknownKeys(root, m, known, ""); len(unknown) > 0 {
				t.Errorf("line %d: config key %q is not accepted by drydock.yaml: %v", r.line, s, unknown)
			}
		}
		for _, cell := range r.cells {
			for _, s := range spans(cell) {
				if v, ok := strings.CutPrefix(strings.TrimPrefix(s, "$"), "DRYDOCK_"); ok && !known[strings.ToLower(strings.ReplaceAll(v, "_", "-"))] {
					t.Errorf("line %d: %s is the variable of no flag", r.line, s)
				}
			}
		}

		if r.header[0] != "Trivy flag" {
			continue
		}
		tf := spans(r.cells[0])
		if len(tf) == 0 || !strings.HasPrefix(tf[0], "--") {
			t.Errorf("line %d: no Trivy flag in %q", r.line, r.cells[0])
			continue
		}
		name := strings.TrimPrefix(tf[0], "--")
		trivyRows[name]++
		if env := spans(r.cells[1]); name != "help" && (len(env) == 0 || env[0] != "TRIVY_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_"))) {
			t.Errorf("line %d: Trivy's variable for --%s is not %v", r.line, name, env)
		}
		m := status.FindStringSubmatch(r.col("status"))
		if m == nil {
			t.Errorf("line %d: --%s: status %q is none of the status words", r.line, name, r.col("status"))
			continue
		}
		hasDrydock := slices.ContainsFunc(spans(r.col("drydock")), func(s string) bool { return strings.HasPrefix(s, "drydock ") })
		switch m[1] {
		case "same", "equivalent", "accepted", "partly":
			if !hasDrydock {
				t.Errorf("line %d: --%s is %s but names no drydock command", r.line, name, m[1])
			}
		}
		if why, ok := strings.CutPrefix(m[2], ":"); m[1] != "same" && m[1] != "equivalent" && (!ok || len(strings.Fields(why)) < 2) {
			t.Errorf("line %d: --%s is %s without saying why", r.line, name, m[1])
		}
	}

	for _, f := range trivyFlags {
		if n := trivyRows[f]; n != 1 {
			t.Errorf("Trivy's --%s has %d rows, want 1", f, n)
		}
	}
	for f := range trivyRows {
		if !slices.Contains(trivyFlags, f) {
			t.Errorf("row for --%s, which is not in the Trivy flag list this page was read from", f)
		}
	}

	var missing []string
	img, _, _ := root.Find([]string{"image"})
	img.InitDefaultHelpFlag()
	visit := func(f *pflag.Flag) {
		if !imageFlags[f.Name] {
			missing = append(missing, f.Name)
		}
	}
	img.Flags().VisitAll(visit)
	img.InheritedFlags().VisitAll(visit)
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("flags of drydock image not in docs/trivy-users.md: %s", strings.Join(slices.Compact(missing), ", "))
	}
}
