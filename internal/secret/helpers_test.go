package secret

import (
	"context"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

func input(p string, data []byte) *extract.Input {
	return &extract.Input{Path: p, Mode: 0o644, File: extract.NewMemFile(data), Layer: inventory.Layer{Index: 1, DiffID: "sha256:0123"}}
}

func newScanner(t testing.TB, cfg *Config) *Scanner {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// scanFile runs Wants and Extract as the layer walk does; it returns nil for
// a file that is not wanted or not text.
func scanFile(t testing.TB, s *Scanner, p string, data []byte) []inventory.SecretHit {
	t.Helper()
	if !s.Wants(p, 0o644, int64(len(data))) {
		return nil
	}
	inv, err := s.Extract(context.Background(), input(p, data))
	if errors.Is(err, extract.ErrNotApplicable) {
		return nil
	}
	if err != nil {
		t.Fatalf("Extract(%q): %v", p, err)
	}
	if len(inv.Packages) != 0 {
		t.Fatalf("Extract(%q) returned packages", p)
	}
	return inv.Hits
}

// gen makes realistic-but-fake tokens: the right prefixes, lengths and
// alphabets, random content from a fixed seed. None is a real secret.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{rand.New(rand.NewPCG(seed, 0x5eed))} }

const (
	alnum    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	lowerNum = "abcdefghijklmnopqrstuvwxyz0123456789"
	upperNum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	hexChars = "0123456789abcdef"
	digits   = "0123456789"
	letters  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	urlSafe  = alnum + "-_"
	b64Chars = alnum + "+/"
	base32   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	bech32   = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"
)

func (g *gen) from(alphabet string, n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(alphabet[g.r.IntN(len(alphabet))])
	}
	return b.String()
}

func (g *gen) alnum(n int) string { return g.from(alnum, n) }
func (g *gen) hex(n int) string   { return g.from(hexChars, n) }

// password is a strong random password: letters, digits and a few symbols.
func (g *gen) password(n int) string {
	for {
		p := g.from(alnum+"!#%^*_+=-", n)
		if strings.ContainsAny(p, digits) && strings.ContainsAny(p, letters) && strings.IndexAny(p[:1], "!#%^*_+=-") < 0 {
			return p
		}
	}
}

func (g *gen) uuid() string {
	return g.hex(8) + "-" + g.hex(4) + "-" + g.hex(4) + "-" + g.hex(4) + "-" + g.hex(12)
}

func (g *gen) b64bytes(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// pemBlock is a PEM-shaped block of random base64 (not a parseable key).
func (g *gen) pemBlock(label string, lines int) (block, body string) {
	var b strings.Builder
	for i := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i == lines-1 {
			b.WriteString(g.from(b64Chars, 40) + "==")
		} else {
			b.WriteString(g.from(b64Chars, 64))
		}
	}
	body = b.String()
	return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----", body
}
