package admission

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/drydock-scan/drydock/internal/server/api"
)

// Gatekeeper external data provider protocol
// (externaldata.gatekeeper.sh/v1beta1): Gatekeeper POSTs a ProviderRequest
// whose keys are images and reads one item per key back.
const (
	ProviderAPIVersion = "externaldata.gatekeeper.sh/v1beta1"
	KindProviderReq    = "ProviderRequest"
	KindProviderResp   = "ProviderResponse"
)

// maxProviderKeys bounds the keys of one provider request.
const maxProviderKeys = 1000

// ProviderRequest is what Gatekeeper sends.
type ProviderRequest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Request    struct {
		Keys []string `json:"keys"`
	} `json:"request"`
}

// ProviderResponse is the provider's answer.
type ProviderResponse struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Response   ProviderBody `json:"response"`
}

// ProviderBody holds one item per key, or a system error.
type ProviderBody struct {
	Idempotent  bool           `json:"idempotent"`
	Items       []ProviderItem `json:"items"`
	SystemError string         `json:"systemError,omitempty"`
}

// ProviderItem is the verdict for one key: Value, or Error when the gate
// could not decide within its budget.
type ProviderItem struct {
	Key   string        `json:"key"`
	Value *VerdictValue `json:"value,omitempty"`
	Error string        `json:"error,omitempty"`
}

// VerdictValue is what a Gatekeeper policy reads for an image.
type VerdictValue struct {
	// Verdict is "pass", "fail" or "pending" (never scanned: a scan is
	// queued).
	Verdict  string   `json:"verdict"`
	Digest   string   `json:"digest"`
	Policy   string   `json:"policy"`
	Failures []string `json:"failures,omitempty"` // "<rule id>: <message>"
	Warnings []string `json:"warnings,omitempty"`
	// Message names the image and the failing rules, ready for a
	// constraint's violation message.
	Message string `json:"message"`
}

func (g *Gate) gatekeeper(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx, cancel := g.withBudget(r.Context())
	defer cancel()
	outcome := OutcomeBadRequest
	defer func() {
		g.metrics.requests.WithLabelValues(endpointGatekeeper, outcome).Inc()
		g.metrics.duration.WithLabelValues(endpointGatekeeper).Observe(time.Since(start).Seconds())
	}()
	fail := func(format string, args ...any) {
		api.WriteJSON(w, http.StatusBadRequest, ProviderResponse{APIVersion: ProviderAPIVersion, Kind: KindProviderResp,
			Response: ProviderBody{Idempotent: true, Items: []ProviderItem{}, SystemError: fmt.Sprintf(format, args...)}})
	}
	var req ProviderRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&req); err != nil {
		fail("drydock: reading the ProviderRequest: %v", err)
		return
	}
	if req.APIVersion != ProviderAPIVersion || req.Kind != KindProviderReq {
		fail("drydock: want a %s %s, got %q %q", ProviderAPIVersion, KindProviderReq, req.APIVersion, req.Kind)
		return
	}
	if len(req.Request.Keys) > maxProviderKeys {
		fail("drydock: %d keys, at most %d in one request", len(req.Request.Keys), maxProviderKeys)
		return
	}
	verdicts := g.decideAll(ctx, req.Request.Keys, g.cfg.Gatekeeper, false)
	items := make([]ProviderItem, len(verdicts))
	outcome = OutcomeAllowed
	for i := range verdicts {
		v := &verdicts[i]
		g.metrics.images.WithLabelValues(endpointGatekeeper, v.Status).Inc()
		items[i].Key = v.Image
		if v.Status == StatusError {
			items[i].Error = "drydock: " + v.describe()
			outcome = OutcomeFailOpen // Gatekeeper's own failure policy decides
			if !g.cfg.FailOpen {
				outcome = OutcomeFailClosed
			}
			continue
		}
		val := &VerdictValue{Verdict: v.Status, Digest: v.Digest, Policy: v.Policy, Message: v.describe()}
		for _, f := range v.Failures {
			val.Failures = append(val.Failures, f.RuleID+": "+f.Message)
		}
		for _, wr := range v.Warnings {
			val.Warnings = append(val.Warnings, wr.RuleID+": "+wr.Message)
		}
		items[i].Value = val
	}
	g.recordGatekeeper(outcome, verdicts)
	api.WriteJSON(w, http.StatusOK, ProviderResponse{APIVersion: ProviderAPIVersion, Kind: KindProviderResp,
		Response: ProviderBody{Idempotent: true, Items: items}})
}
