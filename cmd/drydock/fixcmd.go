package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/fix"
	"github.com/drydock-scan/drydock/internal/fix/gitfix"
	"github.com/drydock-scan/drydock/internal/fix/pr"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/match"
	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// fixFlags are drydock fix's own flags.
type fixFlags struct {
	sourceDir, dockerfile, branch, remote string
	dryRun, push, openPR                  bool
	prProvider, prBase, prRepo, prURL     string
	prTokenEnv                            string
	format                                string
}

func newFixCmd(e *env) *cobra.Command {
	var sf sourceFlags
	var gf gateFlags
	var cf compatFlags
	var ff fixFlags
	cmd := &cobra.Command{
		Use:   "fix IMAGE --source-dir DIR",
		Short: "Plan the fixes of an image's findings and commit them on a new branch",
		Long: `Scan an image, plan the cheapest remedy of each finding — a base-image bump (the indexed newer
base that fixes the most, pinned by digest), an OS package upgrade to the exact fixed version, a
language dependency bump (npm, PyPI, Go modules, Maven, RubyGems, crates.io) to the lowest fixed
version, or "no fix: consider VEX" — and write it as edits of the source tree: the Dockerfile and the lockfiles and manifests
under --source-dir. In its git work tree (which must be clean), a new branch gets one commit per
remedy, naming the advisories it fixes; the work tree goes back to the branch it was on.
--dry-run prints the plan and the diff and writes nothing. --open-pr pushes the branch to --remote
and opens a pull request (GitHub) or merge request (GitLab) with the plan in its description.

Exit codes: 0 done (also when nothing is fixable), 2 usage error, 3 scan or git error.`,
		Example: `  drydock fix --source-dir . --dry-run registry.example.com/shop/app:1.4
  drydock fix --source-dir . --base-index bases.json app:1.4
  drydock fix --source-dir . --open-pr --pr-provider github --pr-repo shop/app --pr-token-env GITHUB_TOKEN app:1.4`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer e.withTimeout(cmd)()
			return runFix(cmd, e, &sf, &gf, &cf, &ff, args)
		},
	}
	sf.add(cmd)
	cf.addAuth(cmd)
	gf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&ff.sourceDir, "source-dir", "", "the source tree the image is built from (required): its Dockerfile, lockfiles and manifests are edited")
	f.StringVar(&ff.dockerfile, "dockerfile", "", "the Dockerfile, relative to --source-dir (default Dockerfile when it exists)")
	f.StringVar(&ff.branch, "branch", "", "the branch to create (default drydock/fix-<12 hex digits of the image digest>)")
	f.StringVar(&ff.remote, "remote", "origin", "the git remote to push to (--push, --open-pr)")
	f.BoolVar(&ff.dryRun, "dry-run", false, "print the plan and the diff; write nothing")
	f.BoolVar(&ff.push, "push", false, "push the branch to --remote")
	f.BoolVar(&ff.openPR, "open-pr", false, "push the branch and open a pull/merge request")
	f.StringVar(&ff.prProvider, "pr-provider", "github", "github or gitlab")
	f.StringVar(&ff.prBase, "pr-base", "main", "the branch the pull request goes into")
	f.StringVar(&ff.prRepo, "pr-repo", "", "the repository: GitHub owner/name, GitLab project path")
	f.StringVar(&ff.prURL, "pr-url", "", "the API base URL (default https://api.github.com/ or https://gitlab.com/api/v4/)")
	f.StringVar(&ff.prTokenEnv, "pr-token-env", "", "the environment variable holding the API token (also used to push over HTTPS)")
	f.StringVarP(&ff.format, "format", "f", "table", "table or json (the JSON report with its fix section)")
	return cmd
}

func runFix(cmd *cobra.Command, e *env, sf *sourceFlags, gf *gateFlags, cf *compatFlags, ff *fixFlags, args []string) error {
	ctx := cmd.Context()
	if ff.sourceDir == "" {
		return usageErr("--source-dir is required")
	}
	if ff.format != "table" && ff.format != "json" {
		return usageErr("--format must be table or json, not %q", ff.format)
	}
	if ff.openPR {
		if ff.dryRun {
			return usageErr("--open-pr and --dry-run are exclusive")
		}
		if ff.prProvider != "github" && ff.prProvider != "gitlab" {
			return usageErr("--pr-provider must be github or gitlab, not %q", ff.prProvider)
		}
		if ff.prRepo == "" || ff.prTokenEnv == "" {
			return usageErr("--open-pr needs --pr-repo and --pr-token-env")
		}
		if os.Getenv(ff.prTokenEnv) == "" {
			return usageErr("--pr-token-env: $%s is empty", ff.prTokenEnv)
		}
	}
	if fi, err := os.Stat(ff.sourceDir); err != nil || !fi.IsDir() {
		return usageErr("--source-dir %s: not a directory", ff.sourceDir)
	}
	ref, err := cf.prepare(e, cmd, args)
	if err != nil {
		return err
	}
	eng, ignoreNotes, err := gf.engineAndNotes()
	if err != nil {
		return err
	}
	// The work tree is checked, and the source tree read, before the scan:
	// a dirty one, a missing --dockerfile or an unreadable file is refused
	// at once.
	var repo *gitfix.Repo
	if !ff.dryRun {
		if repo, err = gitfix.Open(ff.sourceDir); err != nil {
			return &exitError{code: policy.ExitScanError, err: err}
		}
	}
	tree, err := fix.ReadTree(ctx, ff.sourceDir, ff.dockerfile)
	if err != nil {
		return &exitError{code: policy.ExitScanError, err: err}
	}
	e.started = true

	cfg := sf.config(e, ref)
	cfg.Source.Keychain = cf.keychain
	if cfg.BaseImages, err = sf.baseImages(e); err != nil {
		return err
	}
	db, err := gf.openDB(e, cmd)
	if err != nil {
		return err
	}
	defer db.Close()
	cfg.DB = db
	cfg.Match.MatchDeclared, cfg.Match.MatchOwned = gf.matchDeclared, gf.matchOwned
	res, err := scan.Run(ctx, cfg)
	e.endProgress()
	if err != nil {
		return err
	}
	res.Notes = append(res.Notes, ignoreNotes...)
	var opt fix.Options
	if cfg.BaseImages != nil {
		scanned, err := adviseBase(ctx, e, cfg, eng, res)
		if err != nil {
			return err
		}
		opt.Base = fixCandidate(res, scanned)
	}
	verdict, err := eng.Evaluate(ctx, res)
	if err != nil {
		return fmt.Errorf("evaluating policy: %w", err)
	}
	opt.Check = fixChecker(res, db, cfg.Match)
	plan, err := fix.New(ctx, res, opt)
	if err != nil {
		return err
	}
	switch {
	case cfg.BaseImages == nil:
		plan.Notes = append(plan.Notes, "no base-image index: no base bump was considered (drydock base add, --base-index)")
	case opt.Base == nil:
		plan.Notes = append(plan.Notes, noBaseBump(res.BaseImage))
	}
	edits := plan.Edit(tree)

	if ff.dryRun {
		return writeFix(e, ff, plan, edits, res, verdict, true)
	}
	if err := commitFix(ctx, e, repo, ff, plan, edits, res); err != nil {
		if plan.Branch != "" {
			err = fmt.Errorf("%w (the branch %s holds the commits made)", err, plan.Branch)
		}
		return &exitError{code: policy.ExitScanError, err: err}
	}
	return writeFix(e, ff, plan, edits, res, verdict, false)
}

// fixCandidate is the base the plan bumps to (the advice's candidate that
// fixes the most), with the findings the advice's scan of it gave (the same
// database and filters as the image's), so that the plan knows which base
// findings the bump fixes and which stay; scanned are those findings by
// the advice's From line (adviseBase).
func fixCandidate(res *result.Result, scanned map[string][]finding.Finding) *fix.Candidate {
	adv := fix.ChooseBase(res.BaseImage)
	if adv == nil {
		return nil
	}
	found, ok := scanned[adv.From]
	if !ok {
		return nil
	}
	return &fix.Candidate{Advice: *adv, Findings: found}
}

// noBaseBump says why the plan has no base bump although an index was
// given: no candidate (with the advice's note: the base is not indexed, no
// newer base), or none of the scanned ones fixes a base finding (with those
// that could not be scanned, and why).
func noBaseBump(b *result.BaseImage) string {
	if b == nil || b.Name == "" {
		return "no base bump: the image's base was not identified"
	}
	if len(b.Advice) == 0 {
		msg := "no base bump: no candidate base in the index"
		if b.Note != "" {
			msg += " (" + b.Note + ")"
		}
		return msg
	}
	msg := "no base bump: no scanned candidate fixes any of the base's findings"
	for _, a := range b.Advice {
		if !a.Scanned {
			msg += fmt.Sprintf("; %s %s", a.Name, a.Note)
		}
	}
	return msg
}

// fixChecker matches one package of res at another version against the
// database, with the scan's matching options.
func fixChecker(res *result.Result, db vulndb.Reader, opt match.Options) fix.Checker {
	return func(ctx context.Context, pkgID, v string) ([]finding.Finding, error) {
		for _, p := range res.Packages {
			if p.ID != pkgID {
				continue
			}
			q := p
			if q.PURL != "" {
				q.PURL = strings.Replace(q.PURL, "@"+p.Version, "@"+v, 1)
			}
			if q.SourceVersion == p.Version {
				q.SourceVersion = v
			}
			q.Version = v
			m := match.Matcher{DB: db, Opt: opt}
			out, err := m.Match(ctx, &inventory.Inventory{Distro: res.Distro, Packages: []inventory.Package{q}})
			if err != nil {
				return nil, err
			}
			return out.Findings, nil
		}
		return nil, fmt.Errorf("no package %s in the scan", pkgID)
	}
}

// fixBranch is the default branch name: drydock/fix-<12 hex digits of the
// image's digest>.
func fixBranch(res *result.Result) string {
	d := res.Image.Digest
	if d == "" {
		d = res.Image.ConfigDigest
	}
	_, hex, _ := strings.Cut(d, ":")
	if len(hex) > 12 {
		hex = hex[:12]
	}
	if hex == "" {
		hex = time.Now().UTC().Format("20060102150405")
	}
	return "drydock/fix-" + hex
}

func commitFix(ctx context.Context, e *env, repo *gitfix.Repo, ff *fixFlags, plan *fix.Plan, edits [][]fix.Edit, res *result.Result) error {
	branch := ff.branch
	if branch == "" {
		branch = fixBranch(res)
	}
	applied := 0
	for i := range plan.Remedies {
		if len(edits[i]) > 0 {
			applied++
		}
	}
	if applied == 0 {
		plan.Notes = append(plan.Notes, "nothing to commit: no remedy had a file to edit in the source tree")
		return nil
	}
	start, _, err := repo.Head()
	if err != nil {
		return err
	}
	if err := repo.NewBranch(branch); err != nil {
		return err
	}
	plan.Branch = branch
	for i := range plan.Remedies {
		r := &plan.Remedies[i]
		if len(edits[i]) == 0 {
			continue
		}
		h, err := repo.Commit(ctx, edits[i], fix.CommitMessage(r))
		if err != nil {
			return fmt.Errorf("committing the remedy for %s (the work tree is left on %s): %w", r.Package, branch, err)
		}
		r.Commit = h
		e.log.Debug("remedy committed", "package", r.Package, "to", r.To, "commit", h)
	}
	if start != "" {
		if err := repo.Checkout(start); err != nil {
			return fmt.Errorf("%w (the work tree is left on %s)", err, branch)
		}
	} else {
		plan.Notes = append(plan.Notes, "HEAD was detached: the work tree stays on "+branch)
	}
	if !ff.push && !ff.openPR {
		return nil
	}
	var auth transport.AuthMethod
	if ff.prTokenEnv != "" {
		if u, err := repo.RemoteURL(ff.remote); err == nil && (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
			user := "x-access-token"
			if ff.prProvider == "gitlab" {
				user = "oauth2"
			}
			auth = &githttp.BasicAuth{Username: user, Password: os.Getenv(ff.prTokenEnv)}
		}
	}
	if err := repo.Push(ctx, ff.remote, branch, auth); err != nil {
		return err
	}
	if !ff.openPR {
		return nil
	}
	title := fmt.Sprintf("drydock fix: %d remedies for %s", applied, res.Image.Reference)
	opened, err := pr.Open(ctx, pr.Request{
		Provider: ff.prProvider, BaseURL: ff.prURL, Token: os.Getenv(ff.prTokenEnv), Repo: ff.prRepo,
		Head: branch, Base: ff.prBase, Title: title, Body: plan.Table(),
	})
	if err != nil {
		return fmt.Errorf("opening the pull request (the branch %s is pushed): %w", branch, err)
	}
	plan.PullRequest = opened.URL
	if opened.Existing {
		plan.Notes = append(plan.Notes, "the open pull request for "+branch+" was updated (title and description replaced), not opened again")
	}
	return nil
}

func writeFix(e *env, ff *fixFlags, plan *fix.Plan, edits [][]fix.Edit, res *result.Result, v *result.Verdict, diff bool) error {
	if ff.format == "json" {
		rep := newReport(res, v)
		rep.Fix = plan
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
		return nil
	}
	writeFixTable(e.stdout, plan)
	if diff {
		for i := range plan.Remedies {
			for _, ed := range edits[i] {
				fmt.Fprintf(e.stdout, "\n# %s", fix.CommitMessage(&plan.Remedies[i]))
				fmt.Fprint(e.stdout, fix.UnifiedDiff(ed))
			}
		}
	}
	return nil
}

func writeFixTable(w io.Writer, plan *fix.Plan) {
	fmt.Fprintf(w, "Fix plan for %s: %d remedies, %d findings without a fix\n\n", plan.Image, len(plan.Remedies), len(plan.NoFix))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REMEDY\tPACKAGE\tFROM\tTO\tADVISORIES\tAPPLIED\tCOMMIT")
	for _, r := range plan.Remedies {
		applied := "yes"
		if !r.Applied {
			applied = "no"
		}
		c := r.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Kind, r.Package, r.From, r.To, strings.Join(r.Advisories, ","), applied, c)
	}
	tw.Flush()
	for _, r := range plan.Remedies {
		if r.Note != "" {
			fmt.Fprintf(w, "  %s %s: %s\n", r.Kind, r.Package, r.Note)
		}
	}
	if len(plan.NoFix) > 0 {
		fmt.Fprintf(w, "\nNo fix (consider VEX):\n")
		for _, n := range plan.NoFix {
			fmt.Fprintf(w, "  %s in %s %s: %s\n", n.ID, n.Package, n.Version, n.Reason)
		}
	}
	if plan.Branch != "" {
		fmt.Fprintf(w, "\nBranch: %s\n", plan.Branch)
	}
	if plan.PullRequest != "" {
		fmt.Fprintf(w, "Pull request: %s\n", plan.PullRequest)
	}
	for _, n := range plan.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
}
