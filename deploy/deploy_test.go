// Package deploy holds drydock's Kubernetes manifests and Helm chart; its
// tests decode every manifest with the real Kubernetes API types.
package deploy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/drydock-scan/drydock/internal/server/admission"
)

// decoder decodes YAML manifests with the Kubernetes scheme of the API
// groups drydock's manifests use, refusing unknown and duplicate fields.
func decoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, admissionregistrationv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
}

// decodeAll decodes every document of a multi-document YAML stream.
func decodeAll(t *testing.T, dec runtime.Decoder, name string, data []byte) []runtime.Object {
	t.Helper()
	r := yaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []runtime.Object
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", name, i, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			t.Errorf("%s: document %d: %v", name, i, err)
			continue
		}
		out = append(out, obj)
	}
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, l := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.Bytes()
}

// manifests decodes every file of deploy/kubernetes.
func manifests(t *testing.T) map[string]runtime.Object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	dec := decoder(t)
	objs := map[string]runtime.Object{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range decodeAll(t, dec, f, data) {
			gvk := o.GetObjectKind().GroupVersionKind()
			objs[gvk.Kind+"/"+nameOf(o)] = o
		}
	}
	return objs
}

func nameOf(o runtime.Object) string {
	switch x := o.(type) {
	case interface{ GetName() string }:
		return x.GetName()
	}
	return ""
}

// TestStrictDecoding: an unknown field is refused (the decoder is strict,
// so the manifests' passing means something).
func TestStrictDecoding(t *testing.T) {
	_, _, err := decoder(t).Decode([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {portz: []}\n"), nil, nil)
	if err == nil || !runtime.IsStrictDecodingError(err) {
		t.Errorf("err %v, want a strict decoding error", err)
	}
}

// TestManifests decodes every manifest with the Kubernetes scheme and checks
// that they fit together and with the gate.
func TestManifests(t *testing.T) {
	objs := manifests(t)
	var names []string
	for k := range objs {
		names = append(names, k)
	}
	slices.Sort(names)
	want := []string{"ConfigMap/drydock-admission", "Deployment/drydock-server", "Deployment/drydock-worker", "Namespace/drydock",
		"PodDisruptionBudget/drydock-server", "Secret/drydock", "Secret/drydock-registry", "Secret/drydock-tls", "Service/drydock",
		"ServiceAccount/drydock", "ValidatingWebhookConfiguration/drydock"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("objects (-want +got):\n%s", diff)
	}
	checkTogether(t, objs, objs["Namespace/drydock"].(*corev1.Namespace).Name)
}

// checkTogether checks the objects of one deployment in namespace against
// each other and against the gate.
func checkTogether(t *testing.T, objs map[string]runtime.Object, namespace string) {
	t.Helper()
	hook := objs["ValidatingWebhookConfiguration/drydock"].(*admissionregistrationv1.ValidatingWebhookConfiguration)
	svc := objs["Service/drydock"].(*corev1.Service)
	server := objs["Deployment/drydock-server"].(*appsv1.Deployment)
	cm := objs["ConfigMap/drydock-admission"].(*corev1.ConfigMap)

	if len(hook.Webhooks) != 1 {
		t.Fatalf("%d webhooks", len(hook.Webhooks))
	}
	w := hook.Webhooks[0]
	if w.TimeoutSeconds == nil || *w.TimeoutSeconds < 3 || *w.TimeoutSeconds > 5 {
		t.Errorf("timeoutSeconds %v, want 3–5", w.TimeoutSeconds)
	}
	if w.FailurePolicy == nil || *w.SideEffects != admissionregistrationv1.SideEffectClassNoneOnDryRun {
		t.Errorf("failurePolicy %v sideEffects %v", w.FailurePolicy, w.SideEffects)
	}
	if !slices.Equal(w.AdmissionReviewVersions, []string{"v1"}) {
		t.Errorf("admissionReviewVersions %v", w.AdmissionReviewVersions)
	}
	var excluded []string
	for _, e := range w.NamespaceSelector.MatchExpressions {
		if e.Key == "kubernetes.io/metadata.name" && e.Operator == "NotIn" {
			excluded = e.Values
		}
	}
	if !slices.Contains(excluded, "kube-system") || !slices.Contains(excluded, namespace) {
		t.Errorf("namespaceSelector excludes %v, want kube-system and %s", excluded, namespace)
	}
	var resources []string
	for _, r := range w.Rules {
		for _, res := range r.Resources {
			g := r.APIGroups[0]
			if g == "" {
				g = "core"
			}
			resources = append(resources, g+"/"+res)
		}
		if !slices.Equal(r.Operations, []admissionregistrationv1.OperationType{"CREATE", "UPDATE"}) {
			t.Errorf("rule %v: operations %v", r.Resources, r.Operations)
		}
	}
	slices.Sort(resources)
	wantRes := []string{"apps/daemonsets", "apps/deployments", "apps/replicasets", "apps/statefulsets", "batch/cronjobs", "batch/jobs",
		"core/pods", "core/pods/ephemeralcontainers", "core/podtemplates", "core/replicationcontrollers"}
	if diff := cmp.Diff(wantRes, resources); diff != "" {
		t.Errorf("gated resources (-want +got):\n%s", diff)
	}
	cc := w.ClientConfig
	if cc.Service == nil || cc.Service.Name != svc.Name || cc.Service.Namespace != svc.Namespace || cc.Service.Path == nil ||
		*cc.Service.Path != admission.ValidatePath || cc.Service.Port == nil || *cc.Service.Port != svc.Spec.Ports[0].Port || len(cc.CABundle) == 0 {
		t.Errorf("clientConfig %+v does not name service %s/%s port %d path %s with a caBundle", cc, svc.Namespace, svc.Name, svc.Spec.Ports[0].Port, admission.ValidatePath)
	}

	for _, o := range []interface{ GetNamespace() string }{svc, server, cm} {
		if o.GetNamespace() != namespace {
			t.Errorf("%T in namespace %q, want %q", o, o.GetNamespace(), namespace)
		}
	}
	// The Service reaches the server's HTTPS port.
	tmpl := server.Spec.Template
	for k, v := range svc.Spec.Selector {
		if tmpl.Labels[k] != v {
			t.Errorf("service selector %s=%s does not match the server's pods %v", k, v, tmpl.Labels)
		}
	}
	c := tmpl.Spec.Containers[0]
	if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == svc.Spec.Ports[0].TargetPort.StrVal }) {
		t.Errorf("the server has no port %q", svc.Spec.Ports[0].TargetPort.StrVal)
	}
	for _, flag := range []string{"--tls-cert=", "--tls-key=", "--admission-config="} {
		if !slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, flag) }) {
			t.Errorf("server args %v lack %s", c.Args, flag)
		}
	}

	// The admission configuration loads, and its budget is below the
	// webhook's timeout.
	cfg, err := admission.ParseConfig(context.Background(), "configmap admission.yaml", []byte(cm.Data["admission.yaml"]))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Budget.Seconds() >= float64(*w.TimeoutSeconds) {
		t.Errorf("budget %v not below timeoutSeconds %d", cfg.Budget, *w.TimeoutSeconds)
	}
}
