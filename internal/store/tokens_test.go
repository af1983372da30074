package store_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestTokens: a token is shown once, stored hashed, authenticates with its
// scope, records its last use to the minute, and stops working when revoked.
func TestTokens(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	st := open(t, storetest.NewDatabase(t), c.now)
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if n, err := st.ActiveTokens(ctx); err != nil || n != 0 {
		t.Fatalf("active tokens on a new store: %d, %v", n, err)
	}
	rt, rsecret, err := st.CreateToken(ctx, "ci", store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	wt, wsecret, err := st.CreateToken(ctx, "harbor", store.ScopeWrite)
	if err != nil {
		t.Fatal(err)
	}
	format := regexp.MustCompile(`^ddk_[A-Za-z0-9_-]{43}$`)
	for _, s := range []string{rsecret, wsecret} {
		if !format.MatchString(s) {
			t.Errorf("token %q does not look like ddk_<43 base64url>", s)
		}
	}
	if rsecret == wsecret {
		t.Fatal("two tokens are equal")
	}
	// What is stored is the SHA-256 of the secret, never the secret.
	var hashed, clear int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE hash = sha256(convert_to($1, 'UTF8'))),
		count(*) FILTER (WHERE position($1 IN name || scope || encode(hash, 'escape')) > 0) FROM api_tokens`, rsecret).
		Scan(&hashed, &clear); err != nil || hashed != 1 || clear != 0 {
		t.Errorf("rows holding the secret's hash: %d, the secret: %d (%v); want 1, 0", hashed, clear, err)
	}

	for _, tc := range []struct {
		name, secret string
		want         int64 // token ID; 0: invalid
	}{
		{"read", rsecret, rt.ID},
		{"write", wsecret, wt.ID},
		{"unknown", rsecret[:len(rsecret)-1] + otherChar(rsecret[len(rsecret)-1]), 0},
		{"no prefix", rsecret[4:], 0},
		{"truncated", rsecret[:20], 0},
		{"empty", "", 0},
	} {
		got, err := st.Authenticate(ctx, tc.secret)
		if tc.want == 0 {
			if !errors.Is(err, store.ErrInvalidToken) {
				t.Errorf("%s: err %v, want ErrInvalidToken", tc.name, err)
			}
			continue
		}
		if err != nil || got.ID != tc.want {
			t.Errorf("%s: token %d, %v; want %d", tc.name, got.ID, err, tc.want)
		}
	}

	// Last use: written at the first use, then at most once a minute.
	c.t = c.t.Add(30 * time.Second)
	if _, err := st.Authenticate(ctx, rsecret); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(40 * time.Second)
	if _, err := st.Authenticate(ctx, rsecret); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	t70 := t0.Add(70 * time.Second)
	revokedAt := t70.Add(time.Hour)
	c.t = revokedAt
	if _, err := st.RevokeToken(ctx, rt.ID); err != nil {
		t.Fatal(err)
	}
	c.t = revokedAt.Add(time.Hour) // revoking again keeps the first date
	if _, err := st.RevokeToken(ctx, rt.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeToken(ctx, 999); !errors.Is(err, store.ErrNoToken) {
		t.Errorf("revoking an unknown token: %v, want ErrNoToken", err)
	}
	if _, err := st.Authenticate(ctx, rsecret); !errors.Is(err, store.ErrInvalidToken) {
		t.Errorf("a revoked token authenticates: %v", err)
	}
	list, err := st.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Token{
		{ID: rt.ID, Name: "ci", Scope: "read", CreatedAt: t0, LastUsedAt: &t70, RevokedAt: &revokedAt},
		{ID: wt.ID, Name: "harbor", Scope: "write", CreatedAt: t0, LastUsedAt: &t0},
	}
	utc := cmp.Transformer("utc", func(t time.Time) time.Time { return t.UTC() })
	if d := cmp.Diff(want, list, utc); d != "" {
		t.Errorf("tokens (-want +got):\n%s", d)
	}
	if n, err := st.ActiveTokens(ctx); err != nil || n != 1 {
		t.Errorf("active tokens: %d, %v; want 1", n, err)
	}
	for _, tc := range []struct{ name, scope string }{{"", "read"}, {"x", "admin"}, {"x", ""}} {
		if _, _, err := st.CreateToken(ctx, tc.name, tc.scope); err == nil {
			t.Errorf("CreateToken(%q, %q) accepted", tc.name, tc.scope)
		}
	}
}

func TestTokenAllows(t *testing.T) {
	for _, tc := range []struct {
		token, need string
		want        bool
	}{
		{"read", "read", true},
		{"read", "write", false},
		{"write", "read", true},
		{"write", "write", true},
	} {
		if got := (store.Token{Scope: tc.token}).Allows(tc.need); got != tc.want {
			t.Errorf("%s token allows %s: %v, want %v", tc.token, tc.need, got, tc.want)
		}
	}
}

// BenchmarkAuthenticate: the cost a token adds to each API request (one
// indexed lookup; the last use is written at most once a minute).
func BenchmarkAuthenticate(b *testing.B) {
	st, err := store.Open(b.Context(), storetest.NewDatabase(b), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	if err := st.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	_, secret, err := st.CreateToken(b.Context(), "bench", store.ScopeRead)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := st.Authenticate(b.Context(), secret); err != nil {
			b.Fatal(err)
		}
	}
}

// otherChar is a base64url character other than c: the last character of a
// token changed (a fixed replacement would be the same character one time
// in 64, and the test would fail at random).
func otherChar(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
