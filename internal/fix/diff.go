package fix

import (
	"fmt"
	"strings"
	"time"

	gitdiff "github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"
)

// diffTimeout bounds the line comparison of one edit.
const diffTimeout = 10 * time.Second

// UnifiedDiff is the unified diff (3 lines of context) of one edit, as
// `git diff` prints it.
func UnifiedDiff(e Edit) string {
	type op struct {
		kind byte // ' ', '-', '+'
		line string
	}
	var ops []op
	// Myers' line diff (go-git's, on sergi/go-diff), bounded in time:
	// beyond it the lines not compared are replaced whole.
	for _, d := range gitdiff.DoWithTimeout(string(e.Before), string(e.After), diffTimeout) {
		kind := byte(' ')
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			kind = '-'
		case diffmatchpatch.DiffInsert:
			kind = '+'
		}
		for _, l := range splitLines([]byte(d.Text)) {
			ops = append(ops, op{kind, l})
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- a/%s\n+++ b/%s\n", e.Path, e.Path)
	const ctx = 3
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		// A hunk: from ctx lines before the change to ctx lines after the
		// last change within 2*ctx of the previous one.
		start := max(0, k-ctx)
		end := k
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run < len(ops) && run-end <= 2*ctx {
				end = run
				continue
			}
			end = min(len(ops), end+ctx)
			break
		}
		ai, bi := 1, 1
		for _, o := range ops[:start] {
			if o.kind != '+' {
				ai++
			}
			if o.kind != '-' {
				bi++
			}
		}
		na, nb := 0, 0
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				na++
			}
			if o.kind != '-' {
				nb++
			}
		}
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(ai, na), hunkRange(bi, nb))
		for _, o := range ops[start:end] {
			l := o.line
			sb.WriteByte(o.kind)
			sb.WriteString(strings.TrimSuffix(l, "\n"))
			sb.WriteByte('\n')
			if !strings.HasSuffix(l, "\n") {
				sb.WriteString("\\ No newline at end of file\n")
			}
		}
		k = end
	}
	return sb.String()
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start-1)
	}
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// CommitMessage is the message of the commit that applies r: a subject
// naming the change, and the advisories it fixes.
func CommitMessage(r *Remedy) string {
	var subject string
	switch r.Kind {
	case KindBase:
		subject = fmt.Sprintf("fix: bump the base image %s to %s", r.From, r.To)
	case KindOSPackage:
		subject = fmt.Sprintf("fix: upgrade %s %s to %s", r.Ecosystem, r.Package, r.To)
	default:
		subject = fmt.Sprintf("fix: bump %s %s from %s to %s", r.Ecosystem, r.Package, r.From, r.To)
	}
	var sb strings.Builder
	sb.WriteString(subject)
	sb.WriteString("\n\nFixes ")
	sb.WriteString(strings.Join(r.Advisories, ", "))
	sb.WriteString(".\n")
	if r.FromLine != "" {
		fmt.Fprintf(&sb, "\n%s\n", r.FromLine)
	}
	if r.Note != "" {
		fmt.Fprintf(&sb, "\nNote: %s\n", r.Note)
	}
	sb.WriteString("\nPlanned by drydock fix.\n")
	return sb.String()
}

// Table is the plan as a Markdown table (the pull request's description),
// with the findings without a fix and the plan's notes.
func (p *Plan) Table() string {
	var sb strings.Builder
	sb.WriteString("| remedy | package | from | to | advisories | applied |\n|---|---|---|---|---|---|\n")
	for _, r := range p.Remedies {
		applied := "yes"
		if !r.Applied {
			applied = "no"
			if r.Note != "" {
				applied = "no: " + r.Note
			}
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s |\n", r.Kind, mdCell(r.Package), mdCell(r.From), mdCell(r.To), strings.Join(r.Advisories, ", "), mdCell(applied))
	}
	if len(p.NoFix) > 0 {
		fmt.Fprintf(&sb, "\n%d findings have no fix (consider VEX):\n\n", len(p.NoFix))
		for _, n := range p.NoFix {
			fmt.Fprintf(&sb, "- %s in %s %s: %s\n", n.ID, mdCell(n.Package), mdCell(n.Version), n.Reason)
		}
	}
	if len(p.Notes) > 0 {
		sb.WriteString("\nNotes:\n\n")
		for _, n := range p.Notes {
			fmt.Fprintf(&sb, "- %s\n", mdCell(n))
		}
	}
	return sb.String()
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
