package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drydock-scan/drydock/internal/server/api"
)

// AdmissionReview API versions answered; the response carries the request's.
const (
	reviewV1      = "admission.k8s.io/v1"
	reviewV1beta1 = "admission.k8s.io/v1beta1"
)

// maxReviewSize bounds an AdmissionReview body: the API server's own limit
// on an object is 3 MiB, and a review can hold the object and the old one.
const maxReviewSize = 7 << 20

// Audit annotation keys (the API server prefixes them with the webhook's
// name: "drydock.dev/decision").
const (
	AuditDecision = "decision"
	AuditReason   = "reason"
)

// maxWarnings bounds the warnings of one answer (the API server shows them
// to kubectl users).
const maxWarnings = 10

func (g *Gate) validate(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx, cancel := g.withBudget(r.Context())
	defer cancel()
	outcome := OutcomeBadRequest
	defer func() {
		g.metrics.requests.WithLabelValues(endpointWebhook, outcome).Inc()
		g.metrics.duration.WithLabelValues(endpointWebhook).Observe(time.Since(start).Seconds())
	}()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxReviewSize))
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, "reading the AdmissionReview: %v", err)
		return
	}
	// Not strict: a newer API server may send fields this build does not know.
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		api.WriteError(w, http.StatusBadRequest, "decoding the AdmissionReview: %v", err)
		return
	}
	if review.Kind != "AdmissionReview" || (review.APIVersion != reviewV1 && review.APIVersion != reviewV1beta1) {
		api.WriteError(w, http.StatusBadRequest, "want an AdmissionReview %s, got %s %s", reviewV1, review.APIVersion, review.Kind)
		return
	}
	if review.Request == nil {
		api.WriteError(w, http.StatusBadRequest, "the AdmissionReview has no request")
		return
	}
	var resp *admissionv1.AdmissionResponse
	resp, outcome = g.review(ctx, review.Request)
	resp.UID = review.Request.UID
	api.WriteJSON(w, http.StatusOK, admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: review.APIVersion, Kind: "AdmissionReview"},
		Response: resp,
	})
}

// review decides an admission request.
func (g *Gate) review(ctx context.Context, req *admissionv1.AdmissionRequest) (*admissionv1.AdmissionResponse, string) {
	allow := func(reason string) (*admissionv1.AdmissionResponse, string) {
		return &admissionv1.AdmissionResponse{Allowed: true,
			AuditAnnotations: map[string]string{AuditDecision: OutcomeAllowed, AuditReason: reason}}, OutcomeAllowed
	}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return allow(fmt.Sprintf("operation %s is not gated", req.Operation))
	}
	wl, err := workloadOf(req.Kind, req.Object.Raw)
	if err != nil {
		// An object the API server sent but this gate cannot read: deny,
		// saying why (never admitted unread).
		msg := fmt.Sprintf("drydock: %v", err)
		return &admissionv1.AdmissionResponse{Allowed: false,
			Result:           &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusBadRequest, Reason: metav1.StatusReasonBadRequest, Message: msg},
			AuditAnnotations: map[string]string{AuditDecision: OutcomeDenied, AuditReason: msg}}, OutcomeDenied
	}
	if wl == nil {
		return allow(fmt.Sprintf("%s holds no pod template", kindName(req.Kind)))
	}
	images := wl.images()
	if req.Operation == admissionv1.Update && len(req.OldObject.Raw) > 0 {
		// An update is judged on the images it adds: scaling or relabelling a
		// running workload is not re-gated.
		if old, err := workloadOf(req.Kind, req.OldObject.Raw); err == nil && old != nil {
			had := old.images()
			images = slices.DeleteFunc(images, func(i string) bool { return slices.Contains(had, i) })
		}
	}
	if len(images) == 0 {
		return allow("no new images")
	}
	rule := g.cfg.rule(req.Namespace, wl.labels)
	dryRun := req.DryRun != nil && *req.DryRun
	verdicts := g.decideAll(ctx, images, rule.Policy, dryRun)
	return g.answer(rule, verdicts, dryRun)
}

// answer turns the image verdicts into the admission response: a failing
// verdict or (in deny mode) a pending scan denies; what was not decided
// within the budget is denied or admitted as configured; warnings say what
// was admitted in warn mode.
func (g *Gate) answer(rule *Rule, verdicts []imageVerdict, dryRun bool) (*admissionv1.AdmissionResponse, string) {
	var denials, warnings, undecided []string
	for i := range verdicts {
		v := &verdicts[i]
		g.metrics.images.WithLabelValues(endpointWebhook, v.Status).Inc()
		desc := v.describe()
		if v.Status == StatusPending && dryRun {
			desc += " (dry run: no scan queued)"
		}
		switch v.Status {
		case StatusFail:
			if rule.Failing == Deny {
				denials = append(denials, desc)
			} else {
				warnings = append(warnings, desc)
			}
		case StatusPending:
			switch rule.Unknown {
			case Deny:
				denials = append(denials, desc)
			case Warn:
				warnings = append(warnings, desc)
			}
		case StatusError:
			undecided = append(undecided, desc)
		}
		for _, wr := range v.Warnings {
			warnings = append(warnings, fmt.Sprintf("image %s: policy %q warns: rule %s: %s", v.Image, v.Policy, wr.RuleID, wr.Message))
		}
	}
	resp := &admissionv1.AdmissionResponse{AuditAnnotations: map[string]string{}}
	var outcome, reason string
	switch {
	case len(denials) > 0:
		outcome, reason = OutcomeDenied, strings.Join(append(denials, undecided...), "; ")
	case len(undecided) > 0 && !g.cfg.FailOpen:
		outcome, reason = OutcomeFailClosed, strings.Join(undecided, "; ")+" (fail closed)"
	case len(undecided) > 0:
		outcome, reason = OutcomeFailOpen, strings.Join(undecided, "; ")+" (fail open)"
		warnings = append(undecided, warnings...)
		resp.Allowed = true
	case len(warnings) > 0:
		outcome, reason, resp.Allowed = OutcomeWarned, strings.Join(warnings, "; "), true
	default:
		var passed []string
		for i := range verdicts {
			passed = append(passed, verdicts[i].describe())
		}
		outcome, reason, resp.Allowed = OutcomeAllowed, strings.Join(passed, "; "), true
	}
	reason = clip(reason, 4000)
	resp.AuditAnnotations[AuditDecision] = outcome
	resp.AuditAnnotations[AuditReason] = reason
	if !resp.Allowed {
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden,
			Reason: metav1.StatusReasonForbidden, Message: "drydock: " + reason}
	}
	if len(warnings) > maxWarnings {
		warnings = append(warnings[:maxWarnings-1], fmt.Sprintf("and %d more", len(warnings)-maxWarnings+1))
	}
	for _, w := range warnings {
		resp.Warnings = append(resp.Warnings, "drydock: "+clip(w, 400))
	}
	return resp, outcome
}

// workload is an object holding a pod spec.
type workload struct {
	labels map[string]string
	spec   *corev1.PodSpec
}

// images lists the images of every container, init container and ephemeral
// container, each once, in order.
func (w *workload) images() []string {
	var out []string
	add := func(img string) {
		if img != "" && !slices.Contains(out, img) {
			out = append(out, img)
		}
	}
	for _, c := range w.spec.InitContainers {
		add(c.Image)
	}
	for _, c := range w.spec.Containers {
		add(c.Image)
	}
	for _, c := range w.spec.EphemeralContainers {
		add(c.Image)
	}
	return out
}

func kindName(k metav1.GroupVersionKind) string {
	if k.Group == "" {
		return k.Version + " " + k.Kind
	}
	return k.Group + "/" + k.Version + " " + k.Kind
}

// workloadOf decodes the objects that hold a pod spec: Pods and every
// workload with a pod template. Other kinds give nil. The version is not
// checked: the pod template has one shape across an API group's versions.
func workloadOf(k metav1.GroupVersionKind, raw []byte) (*workload, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	decode := func(v any) error {
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("decoding the %s: %w", kindName(k), err)
		}
		return nil
	}
	switch k.Group + "/" + k.Kind {
	case "/Pod":
		var o corev1.Pod
		if err := decode(&o); err != nil {
			return nil, err
		}
		return &workload{labels: o.Labels, spec: &o.Spec}, nil
	case "/ReplicationController":
		var o corev1.ReplicationController
		if err := decode(&o); err != nil {
			return nil, err
		}
		if o.Spec.Template == nil {
			return nil, nil
		}
		return &workload{labels: o.Labels, spec: &o.Spec.Template.Spec}, nil
	case "/PodTemplate":
		var o corev1.PodTemplate
		if err := decode(&o); err != nil {
			return nil, err
		}
		return &workload{labels: o.Labels, spec: &o.Template.Spec}, nil
	case "apps/Deployment":
		var o appsv1.Deployment
		if err := decode(&o); err != nil {
			return nil, err
		}
		return &workload{labels: o.Labels, spec: &o.Spec.Template.Spec}, nil
	case "apps/StatefulSet":
		var o appsv1.StatefulSet
		if err := decode(&o); err != nil {
			return nil, err
		}
		return &workload{labels: o.Labels, spec: &o.Spec.Template.Spec}, nil
	case "apps/DaemonSet":
		var o appsv1.DaemonSet
		if err := decode(&o); err != nil {
			return nil, err
		}
		return &workload{labels: o.Labels, spec: &o.Spec.Template.Spec}, nil
	case "apps/ReplicaSet":
		var o appsv1.ReplicaSet
		if err := decode(&o); err != nil {
			return nil, err
		}
		return &workload{labels: o.Labels, spec: &o.Spec.Template.Spec}, nil
	case "batch/Job":
		var o batchv1.Job
		if err := decode(&o); err != nil {
			return nil, err
		}
		return &workload{labels: o.Labels, spec: &o.Spec.Template.Spec}, nil
	case "batch/CronJob":
		var o batchv1.CronJob
		if err := decode(&o); err != nil {
			return nil, err
		}
		return &workload{labels: o.Labels, spec: &o.Spec.JobTemplate.Spec.Template.Spec}, nil
	}
	return nil, nil
}
