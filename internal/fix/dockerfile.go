package fix

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// osBlockMarker starts the block of OS package upgrades the plan writes
// after the final stage's FROM line; the block is rewritten whole by each
// OS remedy (one RUN line per package manager), so that the image gets one
// layer of upgrades, not one per package.
const osBlockMarker = "# drydock fix: OS package upgrades"

// instruction is one Dockerfile instruction: its lines (continuations
// joined) and its keyword.
type instruction struct {
	start, end int // line indexes [start, end)
	keyword    string
	args       []string // whitespace-split arguments of the joined text
	// open: the file ended inside the instruction's line continuation.
	open bool
}

// maxDockerfileLines bounds what parseDockerfile reads.
const maxDockerfileLines = 100000

func splitLines(b []byte) []string {
	s := string(b)
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// parseDockerfile splits a Dockerfile into instructions: comments and blank
// lines are skipped; a line ending in a backslash continues on the next.
func parseDockerfile(b []byte) ([]string, []instruction, error) {
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, nil, fmt.Errorf("not a text file (NUL byte)")
	}
	lines := splitLines(b)
	if len(lines) > maxDockerfileLines {
		return nil, nil, fmt.Errorf("more than %d lines", maxDockerfileLines)
	}
	var ins []instruction
	for i := 0; i < len(lines); {
		t := strings.TrimSpace(lines[i])
		if t == "" || strings.HasPrefix(t, "#") {
			i++
			continue
		}
		start := i
		var text strings.Builder
		open := true
		for i < len(lines) {
			l := strings.TrimRight(lines[i], "\r\n")
			i++
			tl := strings.TrimSpace(l)
			if strings.HasPrefix(tl, "#") && text.Len() > 0 {
				continue // a comment inside a continued instruction
			}
			if strings.HasSuffix(l, "\\") {
				text.WriteString(strings.TrimSuffix(l, "\\"))
				text.WriteByte(' ')
				continue
			}
			text.WriteString(l)
			open = false
			break
		}
		f := strings.Fields(text.String())
		if len(f) == 0 {
			continue
		}
		ins = append(ins, instruction{start: start, end: i, keyword: strings.ToUpper(f[0]), args: f[1:], open: open})
	}
	return lines, ins, nil
}

// fromImage returns the image argument of a FROM instruction (after its
// --flags) and its index in args.
func fromImage(in instruction) (string, int) {
	for i, a := range in.args {
		if strings.HasPrefix(a, "--") {
			continue
		}
		return a, i
	}
	return "", -1
}

// finalStage returns the index of the final stage's FROM instruction and
// the FROM instruction of the image it is built on (following stage names:
// FROM build AS final … FROM final).
func finalStage(ins []instruction) (last, root int) {
	last, root = -1, -1
	stages := map[string]int{}
	for i, in := range ins {
		if in.keyword != "FROM" {
			continue
		}
		last = i
		if n := len(in.args); n >= 2 && strings.EqualFold(in.args[n-2], "AS") {
			stages[strings.ToLower(in.args[n-1])] = i
		}
	}
	root = last
	for seen := 0; root >= 0 && seen < len(ins); seen++ {
		img, _ := fromImage(ins[root])
		prev, ok := stages[strings.ToLower(img)]
		if !ok || prev >= root {
			break
		}
		root = prev
	}
	return last, root
}

// repository normalises an image reference to its repository
// ("busybox:1.37" → "index.docker.io/library/busybox"); "" when it is not
// a reference (a build argument).
func repository(ref string) string {
	if strings.Contains(ref, "$") {
		return ""
	}
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return ""
	}
	return r.Context().Name()
}

// BumpBase rewrites the FROM line of the image the final stage is built on
// from the base cur (repository:tag) to the pinned line fromLine ("FROM
// repo:tag@sha256:…"), keeping its flags and stage name.
func BumpBase(dockerfile []byte, cur, fromLine string) ([]byte, error) {
	lines, ins, err := parseDockerfile(dockerfile)
	if err != nil {
		return nil, err
	}
	_, root := finalStage(ins)
	if root < 0 {
		return nil, fmt.Errorf("no FROM instruction")
	}
	in := ins[root]
	img, at := fromImage(in)
	newRef := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(fromLine), "FROM "))
	if newRef == "" || strings.ContainsAny(newRef, " \t\n") {
		return nil, fmt.Errorf("the advice's FROM line %q is not one reference", fromLine)
	}
	if rc, rn := repository(img), repository(cur); rc == "" || rn == "" || rc != rn {
		return nil, fmt.Errorf("the final stage is built FROM %s, not from the base found (%s)", img, cur)
	}
	args := append([]string{}, in.args...)
	args[at] = newRef
	nl := lineEnding(lines[in.start])
	repl := "FROM " + strings.Join(args, " ") + nl
	out := append(append(append([]string{}, lines[:in.start]...), repl), lines[in.end:]...)
	return []byte(strings.Join(out, "")), nil
}

func lineEnding(l string) string {
	if strings.HasSuffix(l, "\r\n") {
		return "\r\n"
	}
	return "\n"
}

// SetOSUpgrades writes (or rewrites) the block of OS package upgrades right
// after the final stage's FROM line: a marker comment and one RUN line for
// ecosystem eco's packages.
func SetOSUpgrades(dockerfile []byte, eco string, ups []OSUpgrade) ([]byte, error) {
	lines, ins, err := parseDockerfile(dockerfile)
	if err != nil {
		return nil, err
	}
	last, _ := finalStage(ins)
	if last < 0 {
		return nil, fmt.Errorf("no FROM instruction")
	}
	cmd := UpgradeCommand(eco, ups)
	if cmd == "" {
		return nil, fmt.Errorf("no upgrade command for %s packages", eco)
	}
	nl := lineEnding(lines[ins[last].start])
	block := []string{osBlockMarker + nl, "RUN " + cmd + nl}
	at := ins[last].end
	end := at
	if ins[last].open {
		return nil, fmt.Errorf("the final FROM instruction ends in a line continuation at the end of the file")
	}
	if !strings.HasSuffix(lines[at-1], "\n") {
		lines[at-1] += nl
	}
	if at < len(lines) && strings.TrimSpace(lines[at]) == osBlockMarker {
		// Replace the existing block: the marker and the RUN instruction
		// after it.
		end = at + 1
		for _, in := range ins {
			if in.start == at+1 && in.keyword == "RUN" {
				end = in.end
			}
		}
	}
	out := append(append(append([]string{}, lines[:at]...), block...), lines[end:]...)
	return []byte(strings.Join(out, "")), nil
}
