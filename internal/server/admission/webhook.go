package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	jsonv2 "github.com/go-json-experiment/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

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

// maxPooledBuffer bounds the body buffers kept for reuse (a warm review is
// a few KB; a rare large one is left to the garbage collector).
const maxPooledBuffer = 64 << 10

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
		g.metrics.webhookRequests(outcome).Inc()
		g.metrics.webhookDuration.Observe(time.Since(start).Seconds())
	}()
	buf := g.bufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			g.bufs.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxReviewSize)); err != nil {
		api.WriteError(w, http.StatusBadRequest, "reading the AdmissionReview: %v", err)
		return
	}
	// Only the fields the gate reads, with the JSON names of the k8s.io/api
	// types (decoding the whole AdmissionReview and object with them was a
	// third of a warm answer's cost). Not strict: a newer API server may
	// send fields this build does not know.
	review, ok := decodeReviewOnce(buf.Bytes())
	if !ok {
		// The two-step decoding, whose errors say what is wrong.
		if err := json.Unmarshal(buf.Bytes(), &review); err != nil {
			api.WriteError(w, http.StatusBadRequest, "decoding the AdmissionReview: %v", err)
			return
		}
	}
	if review.Kind != "AdmissionReview" || (review.APIVersion != reviewV1 && review.APIVersion != reviewV1beta1) {
		api.WriteError(w, http.StatusBadRequest, "want an AdmissionReview %s, got %s %s", reviewV1, review.APIVersion, review.Kind)
		return
	}
	if review.Request == nil {
		api.WriteError(w, http.StatusBadRequest, "the AdmissionReview has no request")
		return
	}
	resp, outcome, j := g.judge(ctx, review.Request)
	if resp == nil {
		if a := g.passedAnswer(review.APIVersion, j); a != nil {
			// Every image passes, as in an answer already encoded: only the
			// uid differs.
			for range j.verdicts {
				g.metrics.webhookImage(StatusPass).Inc()
			}
			outcome = OutcomeAllowed
			g.recordWebhook(review.Request, outcome, a.reason, imagesOf(j.verdicts))
			buf.Reset()
			a.write(buf, review.Request.UID)
			writeBody(w, buf.Bytes())
			return
		}
		resp, outcome = g.answer(j.rule, j.verdicts, j.dryRun)
	}
	g.recordWebhook(review.Request, outcome, resp.AuditAnnotations[AuditReason], imagesOf(j.verdicts))
	resp.UID = review.Request.UID
	buf.Reset()
	// Compact: the API server reads it, no person does.
	if err := json.NewEncoder(buf).Encode(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: review.APIVersion, Kind: "AdmissionReview"},
		Response: resp,
	}); err != nil {
		api.WriteError(w, http.StatusInternalServerError, "encoding the AdmissionReview: %v", err)
		return
	}
	writeBody(w, buf.Bytes())
}

// writeBody writes a 200 answer of JSON.
func writeBody(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// judged is what an admission request's answer is made of, when the
// request is a gated workload's.
type judged struct {
	rule     *Rule
	verdicts []imageVerdict
	dryRun   bool
}

// passedAnswer is an encoded AdmissionReview answer admitting images that
// all pass, without its uid: prefix + JSON string of the uid + suffix.
type passedAnswer struct {
	prefix, suffix []byte
	reason         string // the audit annotation's, for the record
}

// uidMark stands for the uid in an encoded passedAnswer.
const uidMark = "drydock-uid-mark"

// write appends the answer with uid to buf.
func (a *passedAnswer) write(buf *bytes.Buffer, uid types.UID) {
	buf.Write(a.prefix)
	if plainJSON(string(uid)) {
		buf.WriteByte('"')
		buf.WriteString(string(uid))
		buf.WriteByte('"')
	} else {
		b, _ := json.Marshal(string(uid)) // a string always encodes
		buf.Write(b)
	}
	buf.Write(a.suffix)
}

// plainJSON reports a string that is its own JSON string body (as
// encoding/json writes it: no escapes).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// passedAnswer returns the encoded answer for j when every image passes
// with no warnings (the common warm answer, which depends only on the API
// version, the policy and the images and their digests), building and
// remembering it on first use; nil otherwise.
func (g *Gate) passedAnswer(apiVersion string, j judged) *passedAnswer {
	var key strings.Builder
	n := len(apiVersion) + 2
	for i := range j.verdicts {
		n += len(j.verdicts[i].Policy) + len(j.verdicts[i].Image) + len(j.verdicts[i].Digest) + 2
	}
	key.Grow(n)
	key.WriteString(apiVersion)
	key.WriteByte(0)
	for i := range j.verdicts {
		v := &j.verdicts[i]
		if v.Status != StatusPass || len(v.Warnings) > 0 || len(v.Failures) > 0 {
			return nil
		}
		if i == 0 {
			key.WriteString(v.Policy)
			key.WriteByte(0)
		}
		key.WriteString(v.Image)
		key.WriteByte(0)
		key.WriteString(v.Digest)
		key.WriteByte(0)
	}
	if a, ok := g.answers.get(key.String()); ok {
		return a
	}
	resp, outcome := g.answerQuiet(j.rule, j.verdicts, j.dryRun)
	if outcome != OutcomeAllowed {
		return nil // cannot be: every image passed
	}
	resp.UID = uidMark
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: "AdmissionReview"},
		Response: resp,
	})
	if err != nil {
		return nil
	}
	b = append(b, '\n') // as json.Encoder writes it
	before, after, ok := bytes.Cut(b, []byte(`"`+uidMark+`"`))
	if !ok {
		return nil
	}
	a := &passedAnswer{prefix: before, suffix: after, reason: resp.AuditAnnotations[AuditReason]}
	g.answers.put(key.String(), a)
	return a
}

// reviewJSON is the part of an AdmissionReview (admission.k8s.io/v1 or
// v1beta1: the same JSON) the gate reads, with admissionv1's JSON names.
type reviewJSON struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Request    *requestJSON `json:"request"`
}

// requestJSON is the part of an admissionv1.AdmissionRequest the gate
// reads; the objects are decoded by kind (workloadOf), unless
// decodeReviewOnce has decoded them already (decoded set: obj and old).
type requestJSON struct {
	UID       types.UID               `json:"uid"`
	Kind      metav1.GroupVersionKind `json:"kind"`
	Name      string                  `json:"name"` // for the record
	Namespace string                  `json:"namespace"`
	Operation admissionv1.Operation   `json:"operation"`
	UserInfo  userJSON                `json:"userInfo"` // for the record
	DryRun    *bool                   `json:"dryRun"`
	Object    json.RawMessage         `json:"object"`
	OldObject json.RawMessage         `json:"oldObject"`

	decoded  bool
	obj, old *workload
}

// userJSON is the part of an authenticationv1.UserInfo the gate records.
type userJSON struct {
	Username string `json:"username"`
}

// objects returns the workloads of the object and the old object (nil:
// absent or holding no pod spec), and why the object could not be read.
func (r *requestJSON) objects() (obj, old *workload, err error) {
	if r.decoded {
		return r.obj, r.old, nil
	}
	if obj, err = workloadOf(r.Kind, r.Object); err != nil {
		return nil, nil, err
	}
	// An old object that cannot be read has no images to discount.
	old, _ = workloadOf(r.Kind, r.OldObject)
	return obj, old, nil
}

// objectJSON holds the fields of every kind workloadOf reads, so that a
// review is decoded in one pass whatever its kind: each kind's struct reads
// a subset of these paths, with the same types, so an object that decodes
// as objectJSON decodes as its kind, to the same values.
type objectJSON struct {
	Metadata metaJSON      `json:"metadata"`
	Template *templateJSON `json:"template"` // PodTemplate
	Spec     struct {
		podSpecJSON               // Pod
		Template    *templateJSON `json:"template"` // workloads
		JobTemplate *struct {     // CronJob
			Spec struct {
				Template templateJSON `json:"template"`
			} `json:"spec"`
		} `json:"jobTemplate"`
	} `json:"spec"`
}

// workload is what workloadOf gives for the object of kind k.
func (o *objectJSON) workload(k metav1.GroupVersionKind) *workload {
	if o == nil {
		return nil
	}
	switch k.Group + "/" + k.Kind {
	case "/Pod":
		return &workload{labels: o.Metadata.Labels, spec: &o.Spec.podSpecJSON}
	case "/PodTemplate":
		if o.Template == nil {
			o.Template = &templateJSON{}
		}
		return &workload{labels: o.Metadata.Labels, spec: &o.Template.Spec}
	case "/ReplicationController", "apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "apps/ReplicaSet", "batch/Job":
		if o.Spec.Template == nil {
			if k.Group == "" {
				return nil // a ReplicationController's template is optional
			}
			o.Spec.Template = &templateJSON{}
		}
		return &workload{labels: o.Metadata.Labels, spec: &o.Spec.Template.Spec}
	case "batch/CronJob":
		if o.Spec.JobTemplate == nil {
			return &workload{labels: o.Metadata.Labels, spec: &podSpecJSON{}}
		}
		return &workload{labels: o.Metadata.Labels, spec: &o.Spec.JobTemplate.Spec.Template.Spec}
	}
	return nil
}

// decodeReviewOnce decodes a review and its objects in one pass (the
// two-step decoding scans and copies the objects twice); false for any
// error, which the two-step decoding then reports.
func decodeReviewOnce(body []byte) (reviewJSON, bool) {
	var r struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Request    *struct {
			UID       types.UID               `json:"uid"`
			Kind      metav1.GroupVersionKind `json:"kind"`
			Name      string                  `json:"name"`
			Namespace string                  `json:"namespace"`
			Operation admissionv1.Operation   `json:"operation"`
			UserInfo  userJSON                `json:"userInfo"`
			DryRun    *bool                   `json:"dryRun"`
			Object    *objectJSON             `json:"object"`
			OldObject *objectJSON             `json:"oldObject"`
		} `json:"request"`
	}
	// go-json-experiment/json (the prototype of encoding/json/v2, by the Go
	// team's JSON maintainers) decodes this 2–3× faster than encoding/json,
	// which was a fifth of the webhook's CPU under load. Case-insensitive
	// names as encoding/json; anything it refuses that encoding/json would
	// take (duplicate names, invalid UTF-8) goes to the two-step decoding.
	if err := jsonv2.Unmarshal(body, &r, jsonv2.MatchCaseInsensitiveNames(true)); err != nil {
		return reviewJSON{}, false
	}
	out := reviewJSON{APIVersion: r.APIVersion, Kind: r.Kind}
	if q := r.Request; q != nil {
		out.Request = &requestJSON{UID: q.UID, Kind: q.Kind, Name: q.Name, Namespace: q.Namespace, Operation: q.Operation,
			UserInfo: q.UserInfo, DryRun: q.DryRun,
			decoded: true, obj: q.Object.workload(q.Kind), old: q.OldObject.workload(q.Kind)}
	}
	return out, true
}

// judge decides an admission request: the answer, or for a gated
// workload's images the verdicts to answer with (a nil answer).
func (g *Gate) judge(ctx context.Context, req *requestJSON) (*admissionv1.AdmissionResponse, string, judged) {
	allow := func(reason string) (*admissionv1.AdmissionResponse, string, judged) {
		return &admissionv1.AdmissionResponse{Allowed: true,
			AuditAnnotations: map[string]string{AuditDecision: OutcomeAllowed, AuditReason: reason}}, OutcomeAllowed, judged{}
	}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return allow(fmt.Sprintf("operation %s is not gated", req.Operation))
	}
	wl, oldWl, err := req.objects()
	if err != nil {
		// An object the API server sent but this gate cannot read: deny,
		// saying why (never admitted unread).
		msg := fmt.Sprintf("drydock: %v", err)
		return &admissionv1.AdmissionResponse{Allowed: false,
			Result:           &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusBadRequest, Reason: metav1.StatusReasonBadRequest, Message: msg},
			AuditAnnotations: map[string]string{AuditDecision: OutcomeDenied, AuditReason: msg}}, OutcomeDenied, judged{}
	}
	if wl == nil {
		return allow(fmt.Sprintf("%s holds no pod template", kindName(req.Kind)))
	}
	images := wl.images()
	if req.Operation == admissionv1.Update && oldWl != nil {
		// An update is judged on the images it adds: scaling or relabelling a
		// running workload is not re-gated.
		had := oldWl.images()
		images = slices.DeleteFunc(images, func(i string) bool { return slices.Contains(had, i) })
	}
	if len(images) == 0 {
		return allow("no new images")
	}
	rule := g.cfg.rule(req.Namespace, wl.labels)
	dryRun := req.DryRun != nil && *req.DryRun
	return nil, "", judged{rule: rule, verdicts: g.decideAll(ctx, images, rule.Policy, dryRun), dryRun: dryRun}
}

// answer turns the image verdicts into the admission response: a failing
// verdict or (in deny mode) a pending scan denies; what was not decided
// within the budget is denied or admitted as configured; warnings say what
// was admitted in warn mode.
func (g *Gate) answer(rule *Rule, verdicts []imageVerdict, dryRun bool) (*admissionv1.AdmissionResponse, string) {
	for i := range verdicts {
		g.metrics.webhookImage(verdicts[i].Status).Inc()
	}
	return g.answerQuiet(rule, verdicts, dryRun)
}

// answerQuiet is answer without counting the images.
func (g *Gate) answerQuiet(rule *Rule, verdicts []imageVerdict, dryRun bool) (*admissionv1.AdmissionResponse, string) {
	var denials, warnings, undecided []string
	for i := range verdicts {
		v := &verdicts[i]
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
	spec   *podSpecJSON
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

// The parts of the objects the gate reads, with the JSON names of the
// k8s.io/api types (corev1.Pod, appsv1.Deployment, batchv1.CronJob, ...):
// the labels and the pod spec's images. TestMinimalDecode checks them
// against the k8s.io/api types.
type (
	metaJSON struct {
		Labels map[string]string `json:"labels"`
	}
	containerJSON struct {
		Image string `json:"image"`
	}
	podSpecJSON struct {
		InitContainers      []containerJSON `json:"initContainers"`
		Containers          []containerJSON `json:"containers"`
		EphemeralContainers []containerJSON `json:"ephemeralContainers"`
	}
	templateJSON struct {
		Spec podSpecJSON `json:"spec"`
	}
	// podJSON: corev1.Pod.
	podJSON struct {
		Metadata metaJSON    `json:"metadata"`
		Spec     podSpecJSON `json:"spec"`
	}
	// podTemplateJSON: corev1.PodTemplate.
	podTemplateJSON struct {
		Metadata metaJSON     `json:"metadata"`
		Template templateJSON `json:"template"`
	}
	// templatedJSON: appsv1 Deployment, StatefulSet, DaemonSet, ReplicaSet,
	// batchv1.Job and corev1.ReplicationController (whose template may be
	// absent).
	templatedJSON struct {
		Metadata metaJSON `json:"metadata"`
		Spec     struct {
			Template *templateJSON `json:"template"`
		} `json:"spec"`
	}
	// cronJobJSON: batchv1.CronJob.
	cronJobJSON struct {
		Metadata metaJSON `json:"metadata"`
		Spec     struct {
			JobTemplate struct {
				Spec struct {
					Template templateJSON `json:"template"`
				} `json:"spec"`
			} `json:"jobTemplate"`
		} `json:"spec"`
	}
)

// isNull reports an absent object.
func isNull(raw []byte) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// workloadOf decodes the objects that hold a pod spec: Pods and every
// workload with a pod template. Other kinds give nil. The version is not
// checked: the pod template has one shape across an API group's versions.
func workloadOf(k metav1.GroupVersionKind, raw []byte) (*workload, error) {
	if isNull(raw) {
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
		var o podJSON
		if err := decode(&o); err != nil {
			return nil, err
		}
		return &workload{labels: o.Metadata.Labels, spec: &o.Spec}, nil
	case "/PodTemplate":
		var o podTemplateJSON
		if err := decode(&o); err != nil {
			return nil, err
		}
		return &workload{labels: o.Metadata.Labels, spec: &o.Template.Spec}, nil
	case "/ReplicationController", "apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "apps/ReplicaSet", "batch/Job":
		var o templatedJSON
		if err := decode(&o); err != nil {
			return nil, err
		}
		if o.Spec.Template == nil {
			if k.Group == "" {
				return nil, nil // a ReplicationController's template is optional
			}
			o.Spec.Template = &templateJSON{}
		}
		return &workload{labels: o.Metadata.Labels, spec: &o.Spec.Template.Spec}, nil
	case "batch/CronJob":
		var o cronJobJSON
		if err := decode(&o); err != nil {
			return nil, err
		}
		return &workload{labels: o.Metadata.Labels, spec: &o.Spec.JobTemplate.Spec.Template.Spec}, nil
	}
	return nil, nil
}
