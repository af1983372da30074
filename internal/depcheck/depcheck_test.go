package depcheck

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestModuleRules runs the rules on the whole module, as `go list -deps`
// sees it (test files excluded: tests may import anything).
func TestModuleRules(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	cmd := exec.Command(goBin, "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", Module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	graph := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			graph[f[0]] = f[1:]
		}
	}
	if len(graph) < 30 {
		t.Fatalf("go list gave %d packages: the check would prove nothing", len(graph))
	}
	for _, must := range []string{"internal/match", "internal/walk", "internal/policy", "internal/report", "internal/scan"} {
		if _, ok := graph[Module+"/"+must]; !ok {
			t.Fatalf("go list did not list %s", must)
		}
	}
	for _, v := range Check(graph, Rules()) {
		t.Error(v)
	}
}

// TestCheckCatches shows that each kind of rule fires: a forbidden import
// added to a package is reported.
func TestCheckCatches(t *testing.T) {
	m := func(p string) string { return Module + "/" + p }
	graph := map[string][]string{
		m("internal/match"):         {m("internal/vocab"), m("internal/vulndb"), "net/http"},
		m("internal/walk"):          {m("internal/extract"), m("internal/extract/apk")},
		m("internal/extract/npm"):   {m("internal/extract"), m("internal/report")},
		m("internal/vocab"):         {"strings", m("internal/inventory")},
		m("internal/finding"):       {m("internal/vocab"), m("internal/inventory")},
		m("internal/policy"):        {m("internal/result"), m("internal/report")},
		m("internal/scan"):          {m("internal/source"), m("internal/report")},
		m("internal/vulndb/update"): {m("internal/vulndb"), "net/http", "crypto/tls"},
		m("internal/source"):        {"net/http"},
		m("internal/result"):        {m("internal/finding"), m("internal/inventory"), m("internal/vocab")},
	}
	var got []string
	for _, v := range Check(graph, Rules()) {
		got = append(got, v.Package+" -> "+v.Dep)
	}
	want := []string{
		"internal/extract/npm -> " + m("internal/report"),
		"internal/finding -> " + m("internal/inventory"),
		"internal/match -> net/http",
		"internal/policy -> " + m("internal/report"),
		"internal/scan -> " + m("internal/report"),
		"internal/vocab -> " + m("internal/inventory"),
		"internal/walk -> " + m("internal/extract/apk"),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("violations (-want +got):\n%s", d)
	}
}
