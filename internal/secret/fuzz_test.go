package secret

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// FuzzScan runs the rule engine on random input: no panic, and no hit's
// Match holds a whole secret (longer than 4 bytes) of the same text.
func FuzzScan(f *testing.F) {
	g := newGen(1)
	for _, p := range plants(g)[:40] {
		f.Add([]byte(p.text))
	}
	f.Add([]byte("password=" + g.password(12) + " token=" + g.alnum(30) + "\x00"))
	f.Add([]byte("AKIA" + g.from(base32, 16) + "AKIA" + g.from(base32, 16)))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\\n" + g.from(b64Chars, 80)))
	f.Add([]byte("\xff\xfe p\xe9ssword: \"\xc3\x28abcdef123456\""))
	s, err := New(nil)
	if err != nil {
		f.Fatal(err)
	}
	all := make([]bool, len(s.rules))
	for i := range all {
		all[i] = true // path-bound rules too
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		found := s.scan("/root/.npmrc", data, all)
		hits := s.hitsOf(data, found, 0, len(data), 1)
		for _, h := range hits {
			if h.Line < 1 {
				t.Errorf("%s: line %d", h.RuleID, h.Line)
			}
			for _, x := range found {
				sec := string(data[x.sStart:x.sEnd])
				if len(sec) > keepPrefix && strings.Contains(h.Match, sec) {
					t.Fatalf("%s: Match %q holds the secret of %s", h.RuleID, h.Match, x.rule.ID)
				}
			}
		}
		// The same through Extract (windowing, binary sniffing).
		if _, err := s.Extract(context.Background(), input("/app/x", data)); err != nil && !errors.Is(err, extract.ErrNotApplicable) {
			t.Fatal(err)
		}
		// And as image configuration: env, label, argv and history entries,
		// reported and masked.
		text := string(data)
		active := s.activeRules("")
		ts := []configText{historyText(text, 0), historyText("|1 "+text, 0), historyText("ENV "+text, 0), envText("K=" + text), labelText(text, text)}
		if t, ok := argvText(SourceCmd, []string{"app", "--password"}, strings.Fields(text)); ok {
			ts = append(ts, t)
		}
		for _, ct := range ts {
			fs := ct.finds(s, active)
			masked := maskText(ct.text, 0, len(ct.text), fs, nil)
			for _, sec := range s.findings(ct, fs) {
				for _, x := range fs {
					v := ct.text[x.sStart:x.sEnd]
					if len(v) > keepPrefix && (strings.Contains(sec.Match, v) || strings.Contains(sec.CreatedBy, v)) {
						t.Fatalf("%s: Match %q / created_by %q holds the secret of %s", sec.RuleID, sec.Match, sec.CreatedBy, x.rule.ID)
					}
				}
			}
			for _, x := range fs {
				if v := ct.text[x.sStart:x.sEnd]; len(v) > keepPrefix && strings.Contains(masked, v) {
					t.Fatalf("masked %q holds the secret %q of %s", masked, v, x.rule.ID)
				}
			}
		}
		img := inventory.Image{
			Config:  inventory.ImageConfig{Env: []string{text}, Labels: map[string]string{text: text}, Cmd: strings.Fields(text)},
			History: []inventory.History{{CreatedBy: text, Comment: text}},
		}
		_ = s.ScanImage(img)
		_ = NewMasker(img, s).Image(img)
		_ = s.RedactCommand(text)
	})
}
