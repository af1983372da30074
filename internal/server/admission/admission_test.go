package admission

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// fakeDigest is a well-formed sha256 digest named after s.
func fakeDigest(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(h[:])
}

// charlieDigest is the image of the connaisseur Pod requests.
const charlieDigest = "sha256:91ac9b26df583762234c1cdb2fc930364754ccc59bc752a2bfe298d2ea68f9ff"

var (
	passDigest = fakeDigest("pass")
	failDigest = fakeDigest("fail")
	warnDigest = fakeDigest("warn-rule")
	passRef    = "registry.example/team/ok@" + passDigest
	failRef    = "registry.example/team/vulnerable@" + failDigest
)

// env is a gate on a real PostgreSQL store with River's tables, and
// a real registry (docker-registry) for tags.
type env struct {
	st       *store.Store
	river    *river.Client[pgx.Tx]
	registry string // "127.0.0.1:PORT"
	digests  map[string]string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st := storetest.Open(t, store.Options{})
	rc, err := river.NewClient(riverpgxv5.New(st.Pool()), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, river: rc, digests: map[string]string{}}
}

// startRegistry runs docker-registry and pushes an image for each
// repository:tag, recording its digest.
func (e *env) startRegistry(t *testing.T, refs ...string) {
	t.Helper()
	e.registry = testimage.StartRegistry(t, testimage.RegistryBinary(t), nil)
	for i, r := range refs {
		img, err := testimage.Build(testimage.Config{}, testimage.Layer{Files: map[string][]byte{"etc/which": []byte(fmt.Sprint(i, r))}})
		if err != nil {
			t.Fatal(err)
		}
		tag, err := name.NewTag(e.registry + "/" + r)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(tag, img); err != nil {
			t.Fatalf("pushing %s: %v", tag, err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		e.digests[r] = d.String()
	}
}

// redirect sends every registry request to one local registry, so that
// Docker Hub names ("nginx") resolve without the internet.
type redirect struct{ host string }

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = "http", r.host, r.host
	return http.DefaultTransport.RoundTrip(req)
}

// save stores a scan of digest with findings of the given severities.
func (e *env) save(t testing.TB, repo, digest string, severities ...string) {
	t.Helper()
	pkg := inventory.Package{ID: "pkg-openssl", Name: "openssl", Version: "3.0.1", Ecosystem: "Alpine:v3.16", PURL: "pkg:apk/alpine/openssl@3.0.1"}
	res := &result.Result{
		Image:    inventory.Image{Reference: repo + "@" + digest, Kind: "registry", Name: repo, Digest: digest, OS: "linux", Arch: "amd64"},
		Packages: []inventory.Package{pkg},
		Scanners: []string{"sbom", "vuln"},
	}
	for i, sev := range severities {
		res.Findings = append(res.Findings, finding.Finding{ID: fmt.Sprintf("CVE-2024-%04d", i+1), Severity: sev, Status: "fixed",
			FixedVersion: "3.0.2", InstalledVersion: "3.0.1",
			Package: finding.PackageRef{ID: pkg.ID, Name: pkg.Name, Version: pkg.Version, Ecosystem: pkg.Ecosystem, PURL: pkg.PURL}})
	}
	if _, err := e.st.SaveScan(context.Background(), store.ImageKey{Repository: repo}, res); err != nil {
		t.Fatal(err)
	}
}

// jobs lists the scan jobs queued.
func (e *env) jobs(t *testing.T) []string {
	t.Helper()
	res, err := e.river.JobList(context.Background(), river.NewJobListParams().Kinds(queue.ScanArgs{}.Kind()).First(100))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, j := range res.Jobs {
		var a queue.ScanArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s tags=%v priority=%d", a.Reference, a.Tags, j.Priority))
	}
	slices.Sort(out)
	return out
}

func (e *env) enqueue(ctx context.Context, args queue.ScanArgs) error {
	return EnqueueWith(e.river)(ctx, args)
}

const warnPolicy = `apiVersion: drydock.dev/v1
kind: Policy
metadata: {name: old-openssl}
rules:
  - id: old-openssl
    action: warn
    on: package
    expr: pkg.name == "openssl"
    message: "openssl {{version}} is old"
`

// config: no-critical everywhere; namespaces "warn-*" in warn mode,
// "open-*" admit unknown images, objects labelled gate=audit get the
// policy that only warns.
func config(t testing.TB) Config {
	t.Helper()
	noCrit, err := policy.LoadPolicy(context.Background(), "builtin:no-critical")
	if err != nil {
		t.Fatal(err)
	}
	warn, err := policy.ParsePolicy("warn.yaml", []byte(warnPolicy))
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Policies: map[string]*policy.Engine{
			"default": {Policies: []*policy.Policy{noCrit}},
			"audit":   {Policies: []*policy.Policy{warn}},
		},
		Rules: []Rule{
			{Namespaces: []string{"warn-*"}, Policy: "default", Unknown: Warn, Failing: Warn},
			{Namespaces: []string{"open-*"}, Policy: "default", Unknown: Allow},
			{Selector: labels.SelectorFromSet(labels.Set{"gate": "audit"}), Policy: "audit"},
		},
		Default: Rule{Policy: "default"},
		Budget:  20 * time.Second, // the tests on the budget set their own
	}
}

func (e *env) gate(t testing.TB, cfg Config, tr http.RoundTripper) (*Gate, *httptest.Server) {
	t.Helper()
	if tr == nil && e.registry != "" {
		tr = redirect{e.registry}
	}
	g, err := New(Options{Config: cfg, Store: e.st, Enqueue: e.enqueue, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	closeWhenDone(t, g)
	mux := http.NewServeMux()
	for _, r := range g.Routes() {
		mux.HandleFunc(r.Pattern, r.Handler)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return g, srv
}

// post sends an AdmissionReview and decodes the answer.
func post(t *testing.T, client *http.Client, url string, body []byte) *admissionv1.AdmissionReview {
	t.Helper()
	resp, err := client.Post(url+ValidatePath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.Response == nil {
		t.Fatal("no response")
	}
	return &out
}

// answer is what a test checks of an AdmissionResponse.
type answer struct {
	Allowed  bool
	Code     int32
	Message  string // substrings, "|"-separated, all required
	Warnings string // substrings of the joined warnings
	Decision string // audit annotation
}

func check(t *testing.T, got *admissionv1.AdmissionResponse, want answer) {
	t.Helper()
	msg := ""
	var code int32
	if got.Result != nil {
		msg, code = got.Result.Message, got.Result.Code
	}
	if got.Allowed != want.Allowed || code != want.Code || got.AuditAnnotations[AuditDecision] != want.Decision {
		t.Errorf("allowed %v code %d decision %q (message %q, warnings %q); want allowed %v code %d decision %q",
			got.Allowed, code, got.AuditAnnotations[AuditDecision], msg, got.Warnings, want.Allowed, want.Code, want.Decision)
	}
	for _, s := range strings.Split(want.Message, "|") {
		if !strings.Contains(msg, s) {
			t.Errorf("message %q lacks %q", msg, s)
		}
	}
	warns := strings.Join(got.Warnings, "\n")
	for _, s := range strings.Split(want.Warnings, "|") {
		if !strings.Contains(warns, s) {
			t.Errorf("warnings %q lack %q", warns, s)
		}
	}
	if want.Warnings == "" && len(got.Warnings) > 0 {
		t.Errorf("unexpected warnings %q", got.Warnings)
	}
	if got.AuditAnnotations[AuditReason] == "" {
		t.Error("no audit reason")
	}
}

// TestRealReviews answers the AdmissionReview requests in testdata (real
// ones, from connaisseur and kube-review).
func TestRealReviews(t *testing.T) {
	e := newEnv(t)
	e.startRegistry(t, "library/nginx:latest", "securesystemsengineering/alice-image:test")
	e.save(t, "index.docker.io/library/nginx", e.digests["library/nginx:latest"], "LOW")
	e.save(t, "index.docker.io/securesystemsengineering/charlie-image", charlieDigest, "CRITICAL", "LOW")
	_, srv := e.gate(t, config(t), nil)

	charlie := "securesystemsengineering/charlie-image@" + charlieDigest
	for _, tc := range []struct {
		file       string
		apiVersion string
		uid        string
		want       answer
	}{
		{"kube-review-readme-deployment-create.json", reviewV1, "2024ee9c-c374-413c-838d-e62bcb4826be",
			answer{Allowed: true, Decision: OutcomeAllowed}},
		{"connaisseur-02_pod.json", reviewV1, "0c3331b6-1812-11ea-b3fc-02897404852e",
			answer{Code: 403, Decision: OutcomeDenied, Message: "image " + charlie + ` fails policy "default"|rule no-critical: critical vulnerability CVE-2024-0001 in openssl 3.0.1`}},
		{"connaisseur-19_pod_initcontainer.json", reviewV1, "",
			answer{Code: 403, Decision: OutcomeDenied, Message: "image " + charlie + " fails|rule no-critical"}},
		{"connaisseur-20_pod_ephemeralcontainer.json", reviewV1, "",
			answer{Code: 403, Decision: OutcomeDenied, Message: "image " + charlie + " fails|rule no-critical"}},
		{"connaisseur-01_deployment.json", reviewV1beta1, "3a3a7b38-5512-4a85-94bb-3562269e0a6a",
			answer{Code: 403, Decision: OutcomeDenied, Message: "scan pending for securesystemsengineering/alice-image:test (" + e.digests["securesystemsengineering/alice-image:test"] + ")"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got := post(t, srv.Client(), srv.URL, body)
			if got.APIVersion != tc.apiVersion || got.Kind != "AdmissionReview" {
				t.Errorf("answered %s %s, want %s AdmissionReview", got.APIVersion, got.Kind, tc.apiVersion)
			}
			if tc.uid != "" && string(got.Response.UID) != tc.uid {
				t.Errorf("uid %q, want %q", got.Response.UID, tc.uid)
			}
			check(t, got.Response, tc.want)
		})
	}
	// Only the alice image was unknown, and its scan is queued, pinned to
	// the digest the tag named, at the high priority.
	want := []string{"index.docker.io/securesystemsengineering/alice-image@" + e.digests["securesystemsengineering/alice-image:test"] + " tags=[test] priority=1"}
	if diff := cmp.Diff(want, e.jobs(t)); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
}

// spec is a pod spec with the images as containers, init containers and
// ephemeral containers.
func spec(containers, init, ephemeral []string) corev1.PodSpec {
	var s corev1.PodSpec
	for i, img := range containers {
		s.Containers = append(s.Containers, corev1.Container{Name: fmt.Sprint("c", i), Image: img})
	}
	for i, img := range init {
		s.InitContainers = append(s.InitContainers, corev1.Container{Name: fmt.Sprint("init", i), Image: img})
	}
	for i, img := range ephemeral {
		s.EphemeralContainers = append(s.EphemeralContainers, corev1.EphemeralContainer{
			EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: fmt.Sprint("debug", i), Image: img}})
	}
	return s
}

// kinds builds every kind of object that holds a pod spec.
var kinds = []struct {
	gvk   metav1.GroupVersionKind
	build func(meta metav1.ObjectMeta, s corev1.PodSpec) any
}{
	{metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, func(m metav1.ObjectMeta, s corev1.PodSpec) any {
		return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: m, Spec: s}
	}},
	{metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, func(m metav1.ObjectMeta, s corev1.PodSpec) any {
		return &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: m,
			Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: s}}}
	}},
	{metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, func(m metav1.ObjectMeta, s corev1.PodSpec) any {
		return &appsv1.StatefulSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"}, ObjectMeta: m,
			Spec: appsv1.StatefulSetSpec{Template: corev1.PodTemplateSpec{Spec: s}}}
	}},
	{metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}, func(m metav1.ObjectMeta, s corev1.PodSpec) any {
		return &appsv1.DaemonSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"}, ObjectMeta: m,
			Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: s}}}
	}},
	{metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}, func(m metav1.ObjectMeta, s corev1.PodSpec) any {
		return &appsv1.ReplicaSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"}, ObjectMeta: m,
			Spec: appsv1.ReplicaSetSpec{Template: corev1.PodTemplateSpec{Spec: s}}}
	}},
	{metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}, func(m metav1.ObjectMeta, s corev1.PodSpec) any {
		return &batchv1.Job{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}, ObjectMeta: m,
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: s}}}
	}},
	{metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}, func(m metav1.ObjectMeta, s corev1.PodSpec) any {
		return &batchv1.CronJob{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"}, ObjectMeta: m,
			Spec: batchv1.CronJobSpec{Schedule: "@hourly", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: s}}}}}
	}},
	{metav1.GroupVersionKind{Version: "v1", Kind: "ReplicationController"}, func(m metav1.ObjectMeta, s corev1.PodSpec) any {
		return &corev1.ReplicationController{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ReplicationController"}, ObjectMeta: m,
			Spec: corev1.ReplicationControllerSpec{Template: &corev1.PodTemplateSpec{Spec: s}}}
	}},
}

// reviewOf builds an AdmissionReview request with the k8s.io/api types.
func reviewOf(t testing.TB, uid string, op admissionv1.Operation, ns string, gvk metav1.GroupVersionKind, obj, old any, dryRun bool) []byte {
	t.Helper()
	raw := func(v any) runtime.RawExtension {
		if v == nil {
			return runtime.RawExtension{}
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return runtime.RawExtension{Raw: b}
	}
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: reviewV1, Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: types.UID(uid), Kind: gvk, RequestKind: &gvk, Namespace: ns, Operation: op,
			Object: raw(obj), OldObject: raw(old), DryRun: &dryRun},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWorkloads: every kind holding a pod template, with images in every
// kind of container, by digest and by tag, in every mode.
func TestWorkloads(t *testing.T) {
	e := newEnv(t)
	e.startRegistry(t, "team/tagged:1.0")
	e.save(t, "registry.example/team/ok", passDigest, "LOW", "MEDIUM")
	e.save(t, "registry.example/team/vulnerable", failDigest, "HIGH", "CRITICAL")
	e.save(t, "registry.example/team/tagged", e.digests["team/tagged:1.0"])
	g, srv := e.gate(t, config(t), nil)
	tagged := e.registry + "/team/tagged:1.0"

	type tcase struct {
		name                  string
		ns                    string
		labels                map[string]string
		containers, init, eph []string
		dryRun                bool
		want                  answer
		queued                bool // the unknown image's scan is queued
	}
	var wantJobs []string
	for i, k := range kinds {
		unknown := fmt.Sprintf("registry.example/team/new-%d@%s", i, fakeDigest(k.gvk.Kind))
		unknownDry := fmt.Sprintf("registry.example/team/dry-%d@%s", i, fakeDigest("dry"+k.gvk.Kind))
		for _, tc := range []tcase{
			{name: "passes", ns: "prod", containers: []string{passRef, tagged}, init: []string{passRef},
				want: answer{Allowed: true, Decision: OutcomeAllowed}},
			{name: "fails in an init container", ns: "prod", containers: []string{passRef}, init: []string{failRef},
				want: answer{Code: 403, Decision: OutcomeDenied, Message: "image " + failRef + ` fails policy "default": rule no-critical: critical vulnerability CVE-2024-0002 in openssl 3.0.1`}},
			{name: "fails in an ephemeral container", ns: "prod", containers: []string{passRef}, eph: []string{failRef},
				want: answer{Code: 403, Decision: OutcomeDenied, Message: "image " + failRef + " fails|rule no-critical"}},
			{name: "unknown digest", ns: "prod", containers: []string{unknown},
				want:   answer{Code: 403, Decision: OutcomeDenied, Message: "scan pending for " + unknown + ": not scanned yet, scan queued"},
				queued: true},
			{name: "dry run", ns: "prod", containers: []string{unknownDry}, dryRun: true,
				want: answer{Code: 403, Decision: OutcomeDenied, Message: "scan pending for " + unknownDry + ": not scanned yet (dry run: no scan queued)"}},
			{name: "warn mode", ns: "warn-team", containers: []string{failRef, unknown},
				want: answer{Allowed: true, Decision: OutcomeWarned, Warnings: "image " + failRef + " fails|rule no-critical|scan pending for " + unknown}},
			{name: "allow mode", ns: "open-lab", containers: []string{unknown},
				want: answer{Allowed: true, Decision: OutcomeAllowed}},
			{name: "policy chosen by label", ns: "prod", labels: map[string]string{"gate": "audit"}, containers: []string{failRef},
				want: answer{Allowed: true, Decision: OutcomeWarned, Warnings: `image ` + failRef + `: policy "audit" warns: rule old-openssl: openssl 3.0.1 is old`}},
		} {
			t.Run(k.gvk.Kind+" "+tc.name, func(t *testing.T) {
				obj := k.build(metav1.ObjectMeta{Name: "x", Namespace: tc.ns, Labels: tc.labels}, spec(tc.containers, tc.init, tc.eph))
				got := post(t, srv.Client(), srv.URL, reviewOf(t, "uid-"+tc.name, admissionv1.Create, tc.ns, k.gvk, obj, nil, tc.dryRun))
				if string(got.Response.UID) != "uid-"+tc.name {
					t.Errorf("uid %q", got.Response.UID)
				}
				check(t, got.Response, tc.want)
			})
			if tc.queued {
				ref, _ := name.ParseReference(unknown)
				wantJobs = append(wantJobs, ref.Context().Name()+"@"+fakeDigest(k.gvk.Kind)+" tags=[] priority=1")
			}
		}
	}
	t.Run("jobs", func(t *testing.T) {
		// One job per unknown digest (the deny, warn and allow requests
		// queue the same scan once); none for the dry runs.
		slices.Sort(wantJobs)
		if diff := cmp.Diff(wantJobs, e.jobs(t)); diff != "" {
			t.Errorf("jobs (-want +got):\n%s", diff)
		}
	})
	t.Run("update judges the images it adds", func(t *testing.T) {
		k := kinds[1]
		old := k.build(metav1.ObjectMeta{Name: "x"}, spec([]string{failRef}, nil, nil))
		scaled := k.build(metav1.ObjectMeta{Name: "x", Labels: map[string]string{"scaled": "yes"}}, spec([]string{failRef}, nil, nil))
		got := post(t, srv.Client(), srv.URL, reviewOf(t, "u1", admissionv1.Update, "prod", k.gvk, scaled, old, false))
		check(t, got.Response, answer{Allowed: true, Decision: OutcomeAllowed})
		other := "registry.example/team/other@" + failDigest
		added := k.build(metav1.ObjectMeta{Name: "x"}, spec([]string{failRef, other}, nil, nil))
		got = post(t, srv.Client(), srv.URL, reviewOf(t, "u2", admissionv1.Update, "prod", k.gvk, added, old, false))
		check(t, got.Response, answer{Code: 403, Decision: OutcomeDenied, Message: "image " + other + " fails|rule no-critical"})
		if strings.Contains(got.Response.Result.Message, failRef) {
			t.Errorf("message %q names the image the deployment already had", got.Response.Result.Message)
		}
	})
	t.Run("other kinds and operations", func(t *testing.T) {
		cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}}
		got := post(t, srv.Client(), srv.URL, reviewOf(t, "c", admissionv1.Create, "prod", metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, cm, nil, false))
		check(t, got.Response, answer{Allowed: true, Decision: OutcomeAllowed})
		got = post(t, srv.Client(), srv.URL, reviewOf(t, "d", admissionv1.Delete, "prod", kinds[0].gvk, nil, nil, false))
		check(t, got.Response, answer{Allowed: true, Decision: OutcomeAllowed})
	})
	t.Run("metrics", func(t *testing.T) {
		// Four denials per kind, and the update that adds a failing image.
		if n := testutil.ToFloat64(g.metrics.requests.WithLabelValues(endpointWebhook, OutcomeDenied)); n != float64(4*len(kinds)+1) {
			t.Errorf("%v denied requests counted, want %d", n, 4*len(kinds)+1)
		}
		if n := testutil.ToFloat64(g.metrics.caches.WithLabelValues(cacheVerdict, "hit")); n == 0 {
			t.Error("no verdict cache hits counted")
		}
	})
}
