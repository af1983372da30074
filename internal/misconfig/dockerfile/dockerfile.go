// Package dockerfile checks the Dockerfiles of a source tree: the build-time
// counterpart of the image configuration checks in internal/misconfig.
//
// The parser is a small line-based one rather than buildkit's
// (github.com/moby/buildkit/frontend/dockerfile/parser): the checks need
// only the instruction, its arguments and its line, and buildkit's module
// would add a large dependency tree for that. It joins continuation lines,
// drops comments and keeps the line each instruction starts on; heredocs and
// a non-default escape directive are not interpreted.
package dockerfile

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/secret"
	"github.com/drydock-scan/drydock/internal/vocab"
	"github.com/drydock-scan/drydock/internal/walk"
)

// Check IDs. They are stable: policies and ignore files refer to them.
const (
	IDRootUser          = "DD-DF-001"
	IDAddURL            = "DD-DF-002"
	IDLatestTag         = "DD-DF-003"
	IDNoHealthcheck     = "DD-DF-004"
	IDInstallRecommends = "DD-DF-005"
	IDSecretInArg       = "DD-DF-006"
)

// maxFile bytes of a Dockerfile are read; larger files are not Dockerfiles.
const maxFile = 1 << 20

// Instruction is one Dockerfile instruction.
type Instruction struct {
	Cmd  string // upper-cased: FROM, RUN…
	Args string // the rest, continuation lines joined with a space
	Line int    // 1-based line the instruction starts on
}

// IsDockerfile reports whether a file name is a Dockerfile's: Dockerfile,
// NAME.Dockerfile or Dockerfile.SUFFIX (case-insensitive, as Trivy).
func IsDockerfile(name string) bool {
	n := strings.ToLower(path.Base(filepath.ToSlash(name)))
	return n == "dockerfile" || strings.HasSuffix(n, ".dockerfile") || strings.HasPrefix(n, "dockerfile.")
}

// Parse splits a Dockerfile into instructions.
func Parse(data []byte) []Instruction {
	var out []Instruction
	var cur *Instruction
	var buf strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), maxFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "#") || trim == "" {
			continue // comments and blank lines may sit inside a continued instruction
		}
		if cur == nil {
			cmd, rest, _ := strings.Cut(trim, " ")
			if i := strings.IndexByte(cmd, '\t'); i >= 0 {
				cmd, rest = cmd[:i], cmd[i+1:]+" "+rest
			}
			cur = &Instruction{Cmd: strings.ToUpper(cmd), Line: n}
			buf.Reset()
			trim = strings.TrimSpace(rest)
		}
		cont := strings.HasSuffix(trim, `\`)
		trim = strings.TrimSpace(strings.TrimSuffix(trim, `\`))
		if trim != "" {
			if buf.Len() > 0 {
				buf.WriteByte(' ')
			}
			buf.WriteString(trim)
		}
		if !cont {
			cur.Args = buf.String()
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil { // a trailing backslash at the end of the file
		cur.Args = buf.String()
		out = append(out, *cur)
	}
	return out
}

// CheckDir checks every Dockerfile under root (never following symlinks,
// not descending into .git). Paths in the findings are relative to root.
// s finds secrets in ENV and ARG values; nil skips that check. skip's
// patterns (--skip-dirs, --skip-files; nil for none) are applied as the
// walker applies them to the same tree read as a dir: source, so a
// skipped Dockerfile is never read.
func CheckDir(ctx context.Context, root string, s *secret.Scanner, skip *walk.Skipper) ([]finding.Misconfig, error) {
	var out []finding.Misconfig
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if p == root {
				return err
			}
			return nil // unreadable entries are left out, as the dir: source does
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return fmt.Errorf("checking Dockerfile %s: %w", p, err)
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() && (d.Name() == ".git" || p != root && skipped(skip, "skip-dirs", rel)) {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() || !IsDockerfile(d.Name()) || skipped(skip, "skip-files", rel) {
			return nil
		}
		fi, err := d.Info()
		if err != nil || fi.Size() > maxFile {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("reading Dockerfile %s: %w", p, err)
		}
		out = append(out, Check(rel, data, s)...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("checking Dockerfiles under %s: %w", root, err)
	}
	return out, nil
}

// skipped reports whether a pattern of flag matches rel (a slash path
// relative to the root), cleaned as walk.NewSkipper cleans it. Directories
// are matched on the way down, so a skipped directory's files are never
// reached.
func skipped(skip *walk.Skipper, flag, rel string) bool {
	for _, r := range skip.Rules() {
		if r.Flag == flag && doublestar.MatchUnvalidated(strings.TrimLeft(path.Clean(r.Pattern), "/"), rel) {
			return true
		}
	}
	return false
}

// Check runs every check on one Dockerfile and returns one finding per
// problem, in line order; file names the Dockerfile in the findings.
func Check(file string, data []byte, s *secret.Scanner) []finding.Misconfig {
	ins := Parse(data)
	c := &checker{file: file, s: s}
	var lastFrom *Instruction
	var lastUser *Instruction
	stages := map[string]bool{}
	healthcheck := false
	for i := range ins {
		in := &ins[i]
		switch in.Cmd {
		case "FROM":
			lastFrom, lastUser = in, nil
			c.from(in, stages)
		case "USER":
			lastUser = in
		case "HEALTHCHECK":
			healthcheck = true
		case "ADD":
			c.add(in)
		case "RUN":
			c.run(in)
		case "ENV", "ARG":
			c.secrets(in)
		}
	}
	if lastFrom == nil {
		return c.out // not a Dockerfile (or an empty one)
	}
	switch {
	case lastUser == nil:
		c.report(lastFrom, IDRootUser, vocab.SevHigh, "Container runs as root: the final stage sets no USER",
			"Create an unprivileged user and end the final stage with `USER 10001` (or its name).")
	case isRoot(lastUser.Args):
		c.report(lastUser, IDRootUser, vocab.SevHigh, "Container runs as root: the last USER is root",
			"End the final stage with an unprivileged USER.")
	}
	if !healthcheck {
		c.report(lastFrom, IDNoHealthcheck, vocab.SevLow, "No HEALTHCHECK instruction",
			"Add a HEALTHCHECK, or rely on the orchestrator's probes and ignore this check.")
	}
	slices.SortStableFunc(c.out, func(a, b finding.Misconfig) int { return c.lines[a.Title] - c.lines[b.Title] })
	return c.out
}

type checker struct {
	file  string
	s     *secret.Scanner
	out   []finding.Misconfig
	lines map[string]int // title → line, for sorting
}

// report adds a finding; the file and line are in the title so that every
// output format, the table included, shows where the problem is.
func (c *checker) report(in *Instruction, id, sev, title, fix string, evidence ...string) {
	where := fmt.Sprintf("%s:%d", c.file, in.Line)
	if len(evidence) == 0 {
		evidence = []string{fmt.Sprintf("%s: %s %s", where, in.Cmd, clip(in.Args))}
	}
	t := fmt.Sprintf("%s (%s)", title, where)
	if c.lines == nil {
		c.lines = map[string]int{}
	}
	c.lines[t] = in.Line
	c.out = append(c.out, finding.Misconfig{ID: id, Title: t, Severity: sev, Evidence: evidence, Fix: fix})
}

func isRoot(user string) bool {
	u, _, _ := strings.Cut(strings.TrimSpace(user), ":")
	return u == "root" || u == "0"
}

// words splits arguments on blanks, dropping leading --flags.
func words(args string) []string {
	w := strings.Fields(args)
	for len(w) > 0 && strings.HasPrefix(w[0], "--") {
		w = w[1:]
	}
	return w
}

func (c *checker) from(in *Instruction, stages map[string]bool) {
	w := words(in.Args)
	if len(w) == 0 {
		return
	}
	img := w[0]
	stage := stages[strings.ToLower(img)]
	if len(w) >= 3 && strings.EqualFold(w[1], "as") {
		stages[strings.ToLower(w[2])] = true
	}
	// scratch has no tag; an earlier stage's name is not an image; a
	// digest pins the image whatever the tag; a variable cannot be judged.
	if img == "scratch" || stage || strings.Contains(img, "@") || strings.Contains(img, "$") {
		return
	}
	name := img[strings.LastIndexByte(img, '/')+1:]
	_, tag, ok := strings.Cut(name, ":")
	switch {
	case !ok:
		c.report(in, IDLatestTag, vocab.SevMedium, "FROM image has no tag (latest is used)",
			"Pin the base image to a version tag, better a digest: `FROM "+img+":1.2.3@sha256:…`.")
	case tag == "latest":
		c.report(in, IDLatestTag, vocab.SevMedium, "FROM image uses the latest tag",
			"Pin the base image to a version tag, better a digest.")
	}
}

func (c *checker) add(in *Instruction) {
	for _, w := range words(in.Args) {
		lw := strings.ToLower(w)
		if strings.HasPrefix(lw, "http://") || strings.HasPrefix(lw, "https://") {
			c.report(in, IDAddURL, vocab.SevMedium, "ADD fetches a remote URL",
				"Download with `RUN curl -fsSL … && sha256sum -c` (or `ADD --checksum=`), so the content is verified and the layer holds only what is kept.")
			return
		}
	}
}

var (
	reAptInstall = regexp.MustCompile(`\bapt-get\s+(?:\S+\s+)*?install\b`)
	reCmdSep     = regexp.MustCompile(`&&|\|\||;`)
)

func (c *checker) run(in *Instruction) {
	for _, seg := range reCmdSep.Split(in.Args, -1) {
		if !reAptInstall.MatchString(seg) {
			continue
		}
		if strings.Contains(seg, "--no-install-recommends") || strings.Contains(seg, "Install-Recommends=false") {
			continue
		}
		c.report(in, IDInstallRecommends, vocab.SevLow, "apt-get install without --no-install-recommends",
			"Add `--no-install-recommends`: recommended packages add size and vulnerabilities the image does not need.")
		return
	}
}

// pairs reads NAME=value pairs of ENV and ARG (and ENV's legacy
// "NAME value" form), unquoting simple quotes.
func pairs(in *Instruction) [][2]string {
	args := strings.TrimSpace(in.Args)
	if in.Cmd == "ENV" && !strings.Contains(strings.Fields(args + " x")[0], "=") {
		name, val, _ := strings.Cut(args, " ")
		return [][2]string{{name, unquote(strings.TrimSpace(val))}}
	}
	var out [][2]string
	for _, w := range splitQuoted(args) {
		name, val, ok := strings.Cut(w, "=")
		if ok {
			out = append(out, [2]string{name, unquote(val)})
		}
	}
	return out
}

// splitQuoted splits on blanks outside quotes.
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	var q rune
	for _, r := range s {
		switch {
		case q != 0 && r == q:
			q = 0
		case q == 0 && (r == '"' || r == '\''):
			q = r
		case q == 0 && (r == ' ' || r == '\t'):
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// secrets runs the secret scanner's image-config rules on each NAME=value,
// as it does on an image's environment: content rules first, then a
// secret-looking name with a literal value. The evidence is redacted.
func (c *checker) secrets(in *Instruction) {
	if c.s == nil {
		return
	}
	for _, p := range pairs(in) {
		if p[1] == "" {
			continue
		}
		img := inventory.Image{Config: inventory.ImageConfig{Env: []string{p[0] + "=" + p[1]}}}
		found := c.s.ScanImage(img)
		if len(found) == 0 {
			continue
		}
		f := found[0]
		c.report(in, IDSecretInArg, vocab.SevCritical, fmt.Sprintf("Secret in %s %s: %s", in.Cmd, p[0], f.Title),
			"Pass secrets at build time with `RUN --mount=type=secret` and at run time from the orchestrator; ENV and ARG values are kept in the image's config and history.",
			fmt.Sprintf("%s:%d: %s %s (rule %s: %s)", c.file, in.Line, in.Cmd, p[0], f.RuleID, f.Match))
	}
}

func clip(s string) string {
	const max = 160
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
