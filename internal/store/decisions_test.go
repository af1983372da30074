package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
)

// ids lists the IDs of decisions, in order.
func ids(ds []store.Decision) []int64 {
	out := []int64{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// TestDecisions: decisions are stored as given (text cleaned of what
// PostgreSQL refuses), listed newest first with each filter, paged without
// skipping or repeating decisions of the same instant, counted by outcome
// and pruned by age.
func TestDecisions(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	st := storetest.Open(t, store.Options{Now: c.now})
	ctx := t.Context()

	if ds, err := st.Decisions(ctx, store.DecisionFilter{}); err != nil || len(ds) != 0 {
		t.Fatalf("decisions of a new store: %v, %v", ds, err)
	}
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	in := []store.Decision{
		{DecidedAt: t0, Source: store.DecisionWebhook, UID: "uid-1", Namespace: "shop", Kind: "apps/v1 Deployment", Name: "web",
			Username: "alice", Operation: "CREATE", Outcome: "denied", Reason: "image a fails policy \"default\"", Images: []string{"a", "b"}},
		{DecidedAt: t0.Add(time.Minute), Source: store.DecisionWebhook, UID: "uid-2", Namespace: "shop", Kind: "v1 Pod",
			Username: "system:serviceaccount:kube-system:replicaset-controller", Operation: "CREATE", DryRun: true, Outcome: "allowed",
			Reason: "image b passes", Images: []string{"b"}},
		// The same instant as the next: paging must keep both.
		{DecidedAt: t0.Add(2 * time.Minute), Source: store.DecisionGatekeeper, Outcome: "allowed", Reason: "image c passes", Images: []string{"c"}},
		{DecidedAt: t0.Add(2 * time.Minute), Source: store.DecisionWebhook, UID: "uid-4", Namespace: "ops", Kind: "batch/v1 CronJob",
			Name: "backup", Username: "bob", Operation: "UPDATE", Outcome: "fail_closed", Reason: "no verdict for d (fail closed)", Images: []string{"d"}},
		// A NUL byte and invalid UTF-8 in a request's image must not fail
		// the batch; no images is an empty list.
		{DecidedAt: t0.Add(3 * time.Minute), Source: store.DecisionWebhook, UID: "uid-5", Namespace: "ops", Kind: "v1 ConfigMap",
			Operation: "DELETE", Outcome: "allowed", Reason: "operation DELETE is not gated\x00"},
		{Source: store.DecisionWebhook, UID: "uid-6", Namespace: "ops", Kind: "v1 Pod", Operation: "CREATE", Outcome: "denied",
			Reason: "image x\xff fails", Images: []string{"x\x00y\xff"}},
	}
	if err := st.RecordDecisions(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordDecisions(ctx, nil); err != nil {
		t.Errorf("recording no decisions: %v", err)
	}

	want := make([]store.Decision, len(in))
	copy(want, in)
	for i := range want {
		want[i].ID = int64(i + 1)
		if want[i].Images == nil {
			want[i].Images = []string{}
		}
	}
	want[4].Reason = "operation DELETE is not gated\uFFFD"
	want[5].DecidedAt = c.t // zero: now
	want[5].Reason = "image x\uFFFD fails"
	want[5].Images = []string{"x\uFFFDy\uFFFD"}
	byID := func(ids ...int64) []store.Decision {
		out := []store.Decision{} // never nil: the JSON of none is []
		for _, id := range ids {
			out = append(out, want[id-1])
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    store.DecisionFilter
		want []store.Decision
	}{
		{"all, newest first, ties by ID", store.DecisionFilter{}, byID(6, 5, 4, 3, 2, 1)},
		{"denied", store.DecisionFilter{Outcome: "denied"}, byID(6, 1)},
		{"namespace", store.DecisionFilter{Namespace: "shop"}, byID(2, 1)},
		{"outcome and namespace", store.DecisionFilter{Outcome: "allowed", Namespace: "ops"}, byID(5)},
		{"limit", store.DecisionFilter{Limit: 2}, byID(6, 5)},
		{"before a tie", store.DecisionFilter{BeforeID: 4, Limit: 1}, byID(3)},
		{"before, filtered", store.DecisionFilter{BeforeID: 5, Outcome: "allowed"}, byID(3, 2)},
		{"before the oldest", store.DecisionFilter{BeforeID: 1}, byID()},
		{"no such outcome", store.DecisionFilter{Outcome: "warned"}, byID()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.Decisions(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decisions (-want +got):\n%s", diff)
			}
		})
	}

	// Paging by the last ID of each page visits every decision once.
	var paged []int64
	for before, pages := int64(0), 0; pages < 10; pages++ {
		page, err := st.Decisions(ctx, store.DecisionFilter{Limit: 2, BeforeID: before})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, ids(page)...)
		before = page[len(page)-1].ID
	}
	if diff := cmp.Diff([]int64{6, 5, 4, 3, 2, 1}, paged); diff != "" {
		t.Errorf("paged IDs (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		since time.Time
		want  map[string]int
	}{
		{t0, map[string]int{"denied": 2, "allowed": 3, "fail_closed": 1}},
		{t0.Add(2 * time.Minute), map[string]int{"denied": 1, "allowed": 2, "fail_closed": 1}},
		{c.t.Add(time.Second), map[string]int{}},
	} {
		got, err := st.DecisionCounts(ctx, tc.since)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("counts since %v (-want +got):\n%s", tc.since, diff)
		}
	}

	// A batch with one bad decision stores none of it.
	bad := []store.Decision{{Source: store.DecisionWebhook, Outcome: "allowed"}, {Source: "kubectl", Outcome: "allowed"}}
	if err := st.RecordDecisions(ctx, bad); err == nil || !strings.Contains(err.Error(), `"kubectl"`) {
		t.Errorf("recording a decision of source kubectl: %v, want an error naming it", err)
	}
	if err := st.RecordDecisions(ctx, []store.Decision{{Source: store.DecisionGatekeeper}}); err == nil {
		t.Error("recording a decision without an outcome: no error")
	}

	n, err := st.PruneDecisions(ctx, t0.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("pruning: %d, %v; want 2 deleted", n, err)
	}
	got, err := st.Decisions(ctx, store.DecisionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{6, 5, 4, 3}, ids(got)); diff != "" {
		t.Errorf("after pruning (-want +got):\n%s", diff)
	}
	// Paging on from a pruned decision: everything older went with it.
	if got, err := st.Decisions(ctx, store.DecisionFilter{BeforeID: 2}); err != nil || len(got) != 0 {
		t.Errorf("before a pruned decision: %v, %v; want none", ids(got), err)
	}
	if n, err := st.PruneDecisions(ctx, t0); err != nil || n != 0 {
		t.Errorf("pruning again: %d, %v; want 0", n, err)
	}
}

// TestDecisionLimits: no limit lists DefaultDecisionLimit decisions, a
// larger one than MaxDecisionLimit lists MaxDecisionLimit.
func TestDecisionLimits(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	ctx := t.Context()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ds := make([]store.Decision, store.MaxDecisionLimit+20)
	for i := range ds {
		ds[i] = store.Decision{DecidedAt: t0.Add(time.Duration(i) * time.Second), Source: store.DecisionWebhook,
			UID: fmt.Sprint("uid-", i), Outcome: "allowed", Images: []string{"img"}}
	}
	if err := st.RecordDecisions(ctx, ds); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ limit, want int }{
		{0, store.DefaultDecisionLimit},
		{-1, store.DefaultDecisionLimit},
		{7, 7},
		{store.MaxDecisionLimit + 10, store.MaxDecisionLimit},
	} {
		got, err := st.Decisions(ctx, store.DecisionFilter{Limit: tc.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.want || got[0].UID != fmt.Sprint("uid-", len(ds)-1) {
			t.Errorf("limit %d: %d decisions from %s, want %d from the newest", tc.limit, len(got), got[0].UID, tc.want)
		}
	}
}
