package admission

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vulndb/vulndbtest"
)

// TestRealScanSameVerdictAsCLI: a real scan (Alpine 3.16.9: busybox and
// ssl_client, CVE-2023-42366, MEDIUM) stored as a worker stores it is
// judged by the gate exactly as the CLI's policy stage judges the scan's
// own result: --fail-on MEDIUM denies with the CLI's failure message.
func TestRealScanSameVerdictAsCLI(t *testing.T) {
	e := newEnv(t)
	res, err := scan.Run(t.Context(), scan.Config{Reference: "docker-archive:../../../testdata/images/alpine-3.16.9.tar",
		DB: vulndbtest.Alpine316(t), Cache: e.st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.SaveScan(t.Context(), store.ImageKey{Repository: "registry.example/library/alpine"}, res); err != nil {
		t.Fatal(err)
	}
	engine := func() *policy.Engine { return &policy.Engine{Gate: policy.Gate{FailOn: "MEDIUM"}} }
	cli, err := engine().Evaluate(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	if cli.Pass || len(cli.Failures) != 1 {
		t.Fatalf("CLI verdict %+v, want one failure", cli)
	}

	cfg := config(t)
	cfg.Policies = map[string]*policy.Engine{"default": engine(), "audit": engine()}
	_, srv := e.gate(t, cfg, nil)
	img := "registry.example/library/alpine@" + res.Image.Digest
	obj := kinds[1].build(metav1.ObjectMeta{Name: "alpine"}, spec([]string{img}, nil, nil))
	got := post(t, srv.Client(), srv.URL, reviewOf(t, "s", admissionv1.Create, "prod", kinds[1].gvk, obj, nil, false)).Response
	f := cli.Failures[0]
	want := "drydock: image " + img + ` fails policy "default": rule ` + f.RuleID + ": " + f.Message
	if got.Allowed || got.Result == nil {
		t.Fatalf("allowed %v, want denied", got.Allowed)
	}
	if diff := cmp.Diff(want, got.Result.Message); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
}
