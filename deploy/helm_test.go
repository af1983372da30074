package deploy

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/drydock-scan/drydock/internal/server/admission"
)

var update = flag.Bool("update", false, "re-render testdata/helm-rendered.yaml with helm")

// helmArgs render the chart as release "drydock" in namespace "drydock",
// with the values a user must give.
var helmArgs = []string{"template", "drydock", filepath.Join("helm", "drydock"), "--namespace", "drydock",
	"--set", "secrets.postgres=postgres://drydock@postgres.drydock.svc:5432/drydock",
	"--set", "secrets.secretKey=0000000000000000000000000000000000000000000000000000000000000000"}

// generated matches what the chart generates anew on every render (the
// CA and the serving certificate, with its private key); they are kept out
// of the committed rendering as base64 of "<generated>".
var generated = regexp.MustCompile(`(?m)^(\s*(?:tls\.crt|tls\.key|caBundle): ).*$`)

func redact(b []byte) []byte { return generated.ReplaceAll(b, []byte("${1}PGdlbmVyYXRlZD4=")) }

// TestHelmChart: the chart's metadata and default values (the admission
// configuration loads), and its rendering — the committed one, made by
// helm — decoded strictly with the Kubernetes scheme into the same objects
// as deploy/kubernetes (less the Namespace, which helm creates), fitting
// together the same way. Where helm is installed ($HELM or helm on PATH)
// the chart is rendered again and must match the committed rendering (but
// for the generated certificates).
func TestHelmChart(t *testing.T) {
	var chart struct {
		APIVersion string `json:"apiVersion"`
		Name       string `json:"name"`
		Version    string `json:"version"`
		AppVersion string `json:"appVersion"`
	}
	data, err := os.ReadFile(filepath.Join("helm", "drydock", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &chart); err != nil {
		t.Fatal(err)
	}
	if chart.APIVersion != "v2" || chart.Name != "drydock" || chart.Version == "" {
		t.Errorf("Chart.yaml: %+v", chart)
	}
	var values struct {
		Admission map[string]any `json:"admission"`
		Webhook   struct {
			TimeoutSeconds int `json:"timeoutSeconds"`
		} `json:"webhook"`
	}
	if data, err = os.ReadFile(filepath.Join("helm", "drydock", "values.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	adm, err := yaml.Marshal(values.Admission)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admission.ParseConfig(context.Background(), "values.yaml admission", adm); err != nil {
		t.Errorf("the chart's admission configuration: %v", err)
	}

	golden := filepath.Join("testdata", "helm-rendered.yaml")
	helm := os.Getenv("HELM")
	if helm == "" {
		helm, _ = exec.LookPath("helm")
	}
	if helm != "" {
		out, err := exec.Command(helm, helmArgs...).CombinedOutput()
		if err != nil {
			t.Fatalf("helm template: %v\n%s", err, out)
		}
		if *update {
			if err := os.WriteFile(golden, redact(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(redact(want)), string(redact(out))); diff != "" {
			t.Errorf("helm renders differently from %s (run with -update) (-committed +rendered):\n%s", golden, diff)
		}
	} else {
		t.Logf("helm not installed: checking the committed rendering %s only", golden)
	}

	rendered, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]runtime.Object{}
	for _, o := range decodeAll(t, decoder(t), golden, rendered) {
		objs[o.GetObjectKind().GroupVersionKind().Kind+"/"+nameOf(o)] = o
	}
	var names []string
	for k := range objs {
		names = append(names, k)
	}
	slices.Sort(names)
	want := []string{"ConfigMap/drydock-admission", "Deployment/drydock-server", "Deployment/drydock-worker",
		"PodDisruptionBudget/drydock-server", "Secret/drydock", "Secret/drydock-registry", "Secret/drydock-tls", "Service/drydock",
		"ServiceAccount/drydock", "ValidatingWebhookConfiguration/drydock"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("objects (-want +got):\n%s", diff)
	}
	checkTogether(t, objs, "drydock")
	if !bytes.Contains(rendered, []byte("# Source: drydock/templates/")) {
		t.Errorf("%s was not made by helm template", golden)
	}
}
