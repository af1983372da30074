package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/result"
)

// decoded is what the gate reads from an AdmissionReview.
type decoded struct {
	UID, Namespace, Operation string
	Name, Username            string
	Kind                      metav1.GroupVersionKind
	DryRun                    bool
	Labels                    map[string]string
	Images, OldImages         []string
	NoTemplate                bool
}

// withK8sTypes decodes a review with the k8s.io/api types: the reference
// the gate's minimal structs (reviewJSON, podJSON, ...) must agree with.
func withK8sTypes(t *testing.T, body []byte) decoded {
	t.Helper()
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		t.Fatal(err)
	}
	req := review.Request
	d := decoded{UID: string(req.UID), Namespace: req.Namespace, Operation: string(req.Operation), Kind: req.Kind,
		Name: req.Name, Username: req.UserInfo.Username, DryRun: req.DryRun != nil && *req.DryRun}
	podSpec := func(raw []byte) (map[string]string, *corev1.PodSpec) {
		if len(raw) == 0 {
			return nil, nil
		}
		dec := func(v any) {
			if err := json.Unmarshal(raw, v); err != nil {
				t.Fatal(err)
			}
		}
		switch req.Kind.Group + "/" + req.Kind.Kind {
		case "/Pod":
			var o corev1.Pod
			dec(&o)
			return o.Labels, &o.Spec
		case "/ReplicationController":
			var o corev1.ReplicationController
			dec(&o)
			if o.Spec.Template == nil {
				return o.Labels, nil
			}
			return o.Labels, &o.Spec.Template.Spec
		case "/PodTemplate":
			var o corev1.PodTemplate
			dec(&o)
			return o.Labels, &o.Template.Spec
		case "apps/Deployment":
			var o appsv1.Deployment
			dec(&o)
			return o.Labels, &o.Spec.Template.Spec
		case "apps/StatefulSet":
			var o appsv1.StatefulSet
			dec(&o)
			return o.Labels, &o.Spec.Template.Spec
		case "apps/DaemonSet":
			var o appsv1.DaemonSet
			dec(&o)
			return o.Labels, &o.Spec.Template.Spec
		case "apps/ReplicaSet":
			var o appsv1.ReplicaSet
			dec(&o)
			return o.Labels, &o.Spec.Template.Spec
		case "batch/Job":
			var o batchv1.Job
			dec(&o)
			return o.Labels, &o.Spec.Template.Spec
		case "batch/CronJob":
			var o batchv1.CronJob
			dec(&o)
			return o.Labels, &o.Spec.JobTemplate.Spec.Template.Spec
		}
		t.Fatalf("kind %v", req.Kind)
		return nil, nil
	}
	images := func(s *corev1.PodSpec) []string {
		var out []string
		for _, c := range s.InitContainers {
			out = append(out, c.Image)
		}
		for _, c := range s.Containers {
			out = append(out, c.Image)
		}
		for _, c := range s.EphemeralContainers {
			out = append(out, c.Image)
		}
		return out
	}
	var s *corev1.PodSpec
	d.Labels, s = podSpec(req.Object.Raw)
	if s == nil {
		d.NoTemplate, d.Labels = true, nil // the gate reads no further
	} else {
		d.Images = images(s)
	}
	if _, old := podSpec(req.OldObject.Raw); old != nil {
		d.OldImages = images(old)
	}
	return d
}

// withGate decodes a review as the webhook does: in one pass
// (decodeReviewOnce) or in two (reviewJSON, then workloadOf by kind).
func withGate(t *testing.T, body []byte, once bool) decoded {
	t.Helper()
	review, ok := decodeReviewOnce(body)
	if !once {
		review, ok = reviewJSON{}, true
		if err := json.Unmarshal(body, &review); err != nil {
			t.Fatal(err)
		}
	}
	if !ok {
		t.Fatal("not decoded in one pass")
	}
	req := review.Request
	if req.decoded != once {
		t.Fatalf("decoded in one pass: %v", req.decoded)
	}
	d := decoded{UID: string(req.UID), Namespace: req.Namespace, Operation: string(req.Operation), Kind: req.Kind,
		Name: req.Name, Username: req.UserInfo.Username, DryRun: req.DryRun != nil && *req.DryRun}
	wl, old, err := req.objects()
	if err != nil {
		t.Fatal(err)
	}
	if wl == nil {
		d.NoTemplate = true
	} else {
		d.Labels = wl.labels
		d.Images = wl.images()
	}
	if old != nil {
		d.OldImages = old.images()
	}
	return d
}

// TestMinimalDecode: the gate's minimal structs, in one pass or in two,
// read the same uid, kind, name, namespace, operation, user, dry run,
// labels and images as the k8s.io/api types, for the real AdmissionReviews
// of testdata and for every kind built with the k8s.io/api types (the
// images here are distinct: images() lists each once).
func TestMinimalDecode(t *testing.T) {
	bodies := map[string][]byte{}
	files, err := filepath.Glob("testdata/*review*.json")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("testdata/connaisseur-*.json")
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bodies[filepath.Base(f)] = b
	}
	if len(bodies) < 5 {
		t.Fatalf("%d real reviews in testdata, want 5", len(bodies))
	}
	meta := metav1.ObjectMeta{Name: "app", Labels: map[string]string{"team": "a", "tier": "web"}}
	for _, k := range kinds {
		obj := k.build(meta, spec([]string{"c0:1", "c1@" + fakeDigest("x")}, []string{"init:1"}, []string{"debug:1"}))
		old := k.build(meta, spec([]string{"c0:0"}, nil, nil))
		bodies[k.gvk.Kind] = reviewOf(t, "uid-"+k.gvk.Kind, admissionv1.Update, "prod", k.gvk, obj, old, true)
	}
	rc := &corev1.ReplicationController{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ReplicationController"}, ObjectMeta: meta}
	bodies["ReplicationController without template"] = reviewOf(t, "u", admissionv1.Create, "prod",
		metav1.GroupVersionKind{Version: "v1", Kind: "ReplicationController"}, rc, nil, false)
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			want := withK8sTypes(t, body)
			if !want.NoTemplate && len(want.Images) == 0 {
				t.Fatalf("no images in %s: the test would prove nothing", name)
			}
			for _, once := range []bool{false, true} {
				if diff := cmp.Diff(want, withGate(t, body, once)); diff != "" {
					t.Errorf("decoded in one pass %v (-k8s.io/api +gate):\n%s", once, diff)
				}
			}
		})
	}
}

// unusedStore is a Store no test path reaches.
type unusedStore struct{ Store }

// TestPassedAnswer: the precomputed answer of images that all pass is, byte
// for byte, what encoding the AdmissionReview gives, for any uid; it is
// built once per API version, policy and images; anything but all-pass has
// none.
func TestPassedAnswer(t *testing.T) {
	cfg := config(t)
	g, err := New(Options{Config: cfg, Store: unusedStore{}, Enqueue: func(context.Context, queue.ScanArgs) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	closeWhenDone(t, g)
	rule := &g.cfg.Rules[0]
	pass := []imageVerdict{
		{Image: "registry.example/team/a@" + fakeDigest("a"), Digest: fakeDigest("a"), Status: StatusPass, Policy: "default"},
		{Image: "registry.example/team/b:1.0", Digest: fakeDigest("b"), Status: StatusPass, Policy: "default"},
	}
	for _, apiVersion := range []string{reviewV1, reviewV1beta1} {
		for _, uid := range []types.UID{"705ab4f5-6393-11e8-b7cc-42010a800002", `we"ird\<uid>&` + "\u2028é\x01", ""} {
			a := g.passedAnswer(apiVersion, judged{rule: rule, verdicts: pass})
			if a == nil {
				t.Fatal("no answer for images that all pass")
			}
			var got bytes.Buffer
			a.write(&got, uid)
			resp, outcome := g.answerQuiet(rule, pass, false)
			if outcome != OutcomeAllowed {
				t.Fatalf("outcome %s", outcome)
			}
			resp.UID = uid
			var want bytes.Buffer
			if err := json.NewEncoder(&want).Encode(admissionv1.AdmissionReview{
				TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: "AdmissionReview"}, Response: resp}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.String(), got.String()); diff != "" {
				t.Errorf("%s uid %q (-encoded +precomputed):\n%s", apiVersion, uid, diff)
			}
		}
	}
	if n := g.answers.len(); n != 2 {
		t.Errorf("%d answers built, want 2 (one per API version)", n)
	}
	for _, tc := range []struct {
		name   string
		change func(v *imageVerdict)
	}{
		{"fail", func(v *imageVerdict) { v.Status = StatusFail }},
		{"pending", func(v *imageVerdict) { v.Status = StatusPending }},
		{"undecided", func(v *imageVerdict) { v.Status = StatusError }},
		{"warning", func(v *imageVerdict) { v.Warnings = []result.RuleResult{{RuleID: "r", Message: "m"}} }},
	} {
		vs := slices.Clone(pass)
		tc.change(&vs[1])
		if a := g.passedAnswer(reviewV1, judged{rule: rule, verdicts: vs}); a != nil {
			t.Errorf("%s: a precomputed all-pass answer", tc.name)
		}
	}
}
