package secret

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// minGlobal is the length from which a secret found in one string of the
// image configuration is masked wherever else it occurs in it: shorter
// values (a 5-letter password) would mask unrelated words.
const minGlobal = 8

// Masker masks the secrets of one image's configuration and history
// everywhere they occur: what the rules of any of its scanners find in each
// string (see ScanImage), and every secret of minGlobal bytes or more found
// in one string (the first maxScrub) wherever it occurs in another. Each distinct string is
// scanned once per scanner, however many times the image, its layers and
// its packages repeat it. A Masker is not safe for concurrent use.
type Masker struct {
	scanners []*Scanner
	actives  [][]bool
	finds    map[textKey][]found
	texts    map[string]string // Text's results
	all      *strings.Replacer // nil: no secret of minGlobal bytes
}

// textKey identifies a scanned configuration text: the same text reads
// differently as an env entry, a label or a command.
type textKey struct {
	source, text string
}

// NewMasker finds the secrets in every string of img with each scanner.
// With no scanner nothing is masked.
func NewMasker(img inventory.Image, scanners ...*Scanner) *Masker {
	m := &Masker{finds: map[textKey][]found{}, texts: map[string]string{}}
	for _, s := range scanners {
		if s != nil {
			m.scanners = append(m.scanners, s)
			m.actives = append(m.actives, s.activeRules(""))
		}
	}
	if len(m.scanners) == 0 {
		return m
	}
	global := map[string]bool{}
	add := func(t configText) {
		for _, f := range m.findsOf(t) {
			if f.sEnd-f.sStart >= minGlobal && len(global) < maxScrub {
				global[t.text[f.sStart:f.sEnd]] = true
			}
		}
	}
	m.scanners[0].eachConfigText(img, add)
	for _, l := range img.Layers {
		add(historyText(l.CreatedBy, -1))
		add(historyText(l.Comment, -1))
	}
	add(historyText(img.Config.User, -1))
	add(historyText(img.Config.WorkingDir, -1))
	if len(global) > 0 {
		// Longest first: a secret that contains another is masked whole.
		secrets := slices.SortedFunc(maps.Keys(global), func(a, b string) int {
			if len(a) != len(b) {
				return len(b) - len(a)
			}
			return strings.Compare(a, b)
		})
		pairs := make([]string, 0, 2*len(secrets))
		for _, x := range secrets {
			pairs = append(pairs, x, Redact(x))
		}
		m.all = strings.NewReplacer(pairs...)
	}
	return m
}

// findsOf returns the secrets every scanner finds in t, memoised.
func (m *Masker) findsOf(t configText) []found {
	k := textKey{t.source, t.text}
	if fs, ok := m.finds[k]; ok {
		return fs
	}
	var fs []found
	for i, s := range m.scanners {
		fs = append(fs, t.finds(s, m.actives[i])...)
	}
	if len(m.scanners) > 1 {
		fs = resolveUnion(fs)
	}
	m.finds[k] = fs
	return fs
}

// mask returns t.text[lo:hi] masked.
func (m *Masker) mask(t configText, lo, hi int) string {
	if len(m.scanners) == 0 {
		return t.text[lo:hi]
	}
	return maskText(t.text, lo, hi, m.findsOf(t), m.all)
}

// Text returns a created_by, comment or other command line of the image
// with its secrets masked.
func (m *Masker) Text(text string) string {
	if text == "" {
		return ""
	}
	if r, ok := m.texts[text]; ok {
		return r
	}
	r := m.mask(historyText(text, -1), 0, len(text))
	m.texts[text] = r
	return r
}

// Image returns img with every string of its configuration, layers and
// history masked. The slices and maps of img are not modified: the result
// has its own.
func (m *Masker) Image(img inventory.Image) inventory.Image {
	c := &img.Config
	if c.Env != nil {
		env := make([]string, len(c.Env))
		for i, e := range c.Env {
			env[i] = m.mask(envText(e), 0, len(e))
		}
		c.Env = env
	}
	if c.Labels != nil {
		labels := make(map[string]string, len(c.Labels))
		for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
			t := labelText(k, c.Labels[k])
			mk := m.mask(t, 0, len(k))
			for n := 2; ; n++ {
				if _, dup := labels[mk]; !dup {
					break
				}
				mk = m.mask(t, 0, len(k)) + "~" + strconv.Itoa(n) // two keys masked alike
			}
			labels[mk] = m.mask(t, len(k)+1, len(t.text))
		}
		c.Labels = labels
	}
	a := m.argv(SourceCmd, c.Entrypoint, c.Cmd)
	c.Entrypoint, c.Cmd = a[0], a[1]
	c.Healthcheck = m.argv(SourceHealthcheck, c.Healthcheck)[0]
	c.User, c.WorkingDir = m.Text(c.User), m.Text(c.WorkingDir)
	if img.Layers != nil {
		img.Layers = slices.Clone(img.Layers)
		for i := range img.Layers {
			img.Layers[i].CreatedBy = m.Text(img.Layers[i].CreatedBy)
			img.Layers[i].Comment = m.Text(img.Layers[i].Comment)
		}
	}
	if img.History != nil {
		img.History = slices.Clone(img.History)
		for i := range img.History {
			img.History[i].CreatedBy = m.Text(img.History[i].CreatedBy)
			img.History[i].Comment = m.Text(img.History[i].Comment)
		}
	}
	return img
}

// argv returns argvs (read as one command line, see argvText) masked, in new
// slices (nil stays nil).
func (m *Masker) argv(source string, argvs ...[]string) [][]string {
	out := make([][]string, len(argvs))
	t, ok := argvText(source, argvs...)
	if !ok {
		copy(out, argvs)
		return out
	}
	w := 0
	for i, args := range argvs {
		if args == nil {
			continue
		}
		out[i] = make([]string, len(args))
		for j := range args {
			out[i][j] = m.mask(t, t.words[w].lo, t.words[w].hi)
			w++
		}
	}
	return out
}

// maskText returns text[lo:hi] with the secrets of fs (sorted, not
// overlapping) masked as Redact masks them, every other occurrence of those
// secrets in it too, and every secret of all (the image's, may be nil).
// Unlike an excerpt it is not cleaned: what is not a secret is kept byte for
// byte. If masking made a secret appear, the whole text is masked.
func maskText(text string, lo, hi int, fs []found, all *strings.Replacer) string {
	out, secrets := maskRange(text, lo, hi, fs)
	if len(secrets) > 0 {
		if r := scrubAll(out, secrets); r != "" || out == "" {
			out = r
		} else {
			return mask
		}
	}
	if all != nil {
		r := all.Replace(out)
		if all.Replace(r) != r {
			return mask
		}
		out = r
	}
	return out
}
