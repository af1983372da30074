package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/baseimage"
	"github.com/drydock-scan/drydock/internal/license"
	"github.com/drydock-scan/drydock/internal/match"
	"github.com/drydock-scan/drydock/internal/misconfig"
	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/writer"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/sbom"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/secret"
	"github.com/drydock-scan/drydock/internal/source"
	"github.com/drydock-scan/drydock/internal/vocab"
	"github.com/drydock-scan/drydock/internal/vulndb"
	"github.com/drydock-scan/drydock/internal/walk"
)

// sourceFlags are shared by every command that opens an image.
type sourceFlags struct {
	platform  string
	insecure  bool
	parallel  int
	noCache   bool
	baseIndex string
	// noProgress is Trivy's --no-progress (progress is drawn only on a
	// terminal anyway).
	noProgress bool
	// skipDirs and skipFiles are Trivy's --skip-dirs and --skip-files.
	skipDirs, skipFiles skipPatterns
	// engines are Trivy's --image-src, --docker-host, --podman-host.
	engines engineFlags
}

func (f *sourceFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.platform, "platform", "", "platform of a multi-arch image: os/arch[/variant] (default linux/amd64)")
	cmd.Flags().BoolVar(&f.insecure, "insecure-registry", false, "allow plain-HTTP registries and skip TLS verification")
	cmd.Flags().IntVar(&f.parallel, "parallel", 0, "layers read at once (default: number of CPUs)")
	cmd.Flags().BoolVar(&f.noCache, "no-cache", false, "do not read or write the per-layer cache")
	cmd.Flags().BoolVar(&f.noProgress, "no-progress", false, "do not draw layer progress (drawn only on a terminal, without --quiet)")
	cmd.Flags().StringVar(&f.baseIndex, "base-index", "", "base-image index to attribute the image to (default <cache-dir>/baseimages/index.json when it exists; see drydock base)")
	f.skipDirs.flag, f.skipFiles.flag = "skip-dirs", "skip-files"
	cmd.Flags().Var(&f.skipDirs, "skip-dirs", "directories never read, as Trivy's: glob patterns over absolute paths in the image (** is any number of directories), repeatable or comma-separated")
	cmd.Flags().Var(&f.skipFiles, "skip-files", "files never read, as Trivy's: glob patterns as --skip-dirs")
	f.engines.add(cmd)
}

// baseImages loads the base-image index: --base-index (which must exist),
// else the cache's if there is one; nil when there is none (no
// attribution is attempted, and the report has no base_image).
func (f *sourceFlags) baseImages(e *env) (*baseimage.Index, error) {
	path := f.baseIndex
	if path == "" {
		def, err := baseIndexPath(e, "")
		if err != nil {
			return nil, nil
		}
		if _, err := os.Stat(def); err != nil {
			return nil, nil
		}
		path = def
	} else if _, err := os.Stat(path); err != nil {
		return nil, usageErr("--base-index: %v", err)
	}
	ix, err := baseimage.Load(path)
	if err != nil {
		return nil, &exitError{code: policy.ExitScanError, err: err}
	}
	return ix, nil
}

func (f *sourceFlags) config(e *env, ref string) scan.Config {
	cfg := scan.Config{
		Reference: ref,
		Source:    source.Options{Platform: f.platform, Insecure: f.insecure, Logger: e.log},
		Parallel:  f.parallel,
		Logger:    e.log,
	}
	// The patterns were checked one by one as they were set
	// (skipPatterns.Set), so compiling them together cannot fail.
	cfg.Skip, _ = walk.NewSkipper(f.skipDirs.pats, f.skipFiles.pats)
	f.engines.apply(&cfg.Source)
	if isTerminal(e.stderr) && !e.quiet && !e.debug && !f.noProgress {
		p := newLayerProgress(e.stderr)
		cfg.Progress = p.update
		e.progress = p
	}
	if !f.noCache {
		c, err := e.layerCache()
		if err != nil {
			e.log.Warn("layer cache unavailable; scanning without it", "err", err)
		} else {
			cfg.Cache = c
		}
	}
	return cfg
}

// reportFlags are shared by every command that writes a report.
type reportFlags struct {
	formats        []string
	output         string
	template       string
	groupBy        string
	showSuppressed bool
}

func (f *reportFlags) add(cmd *cobra.Command, formats []string) {
	cmd.Flags().StringArrayVarP(&f.formats, "format", "f", nil,
		"output format, repeatable; FORMAT=FILE writes to a file: "+strings.Join(formats, ", ")+" (default table)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "write the report to this file instead of standard output")
}

func (f *reportFlags) addScan(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.template, "template", "", "Go template for --format template (@FILE reads it from a file)")
	cmd.Flags().StringVar(&f.groupBy, "group-by", "package", "table grouping: package or layer")
	cmd.Flags().BoolVar(&f.showSuppressed, "show-suppressed", false, "show suppressed findings in the table")
}

func (f *reportFlags) options(mode string) (writer.Options, error) {
	opt := writer.Options{Color: true, Width: terminalWidth(), GroupBy: f.groupBy, ShowSuppressed: f.showSuppressed, Mode: mode}
	if f.groupBy != "" && f.groupBy != "package" && f.groupBy != "layer" {
		return opt, usageErr("--group-by must be package or layer, not %q", f.groupBy)
	}
	if t, ok := strings.CutPrefix(f.template, "@"); ok {
		b, err := os.ReadFile(t)
		if err != nil {
			return opt, usageErr("reading template: %v", err)
		}
		opt.Template = string(b)
	} else {
		opt.Template = f.template
	}
	return opt, nil
}

var sbomFormats = []string{"table", "json", "cyclonedx", "cyclonedx-1.6", "cyclonedx-1.7", "spdx", "spdx-json", "spdx-2.3", "spdx-3.0", "spdx-json-3.0", "github"}
var scanFormats = []string{"table", "json", "sarif", "cyclonedx", "cyclonedx-1.6", "cyclonedx-1.7", "spdx", "spdx-json", "spdx-2.3", "spdx-3.0", "spdx-json-3.0", "html", "junit", "markdown", "github", "gitlab", "template"}

func newSBOMCmd(e *env) *cobra.Command {
	var sf sourceFlags
	var rf reportFlags
	var cf compatFlags
	cmd := &cobra.Command{
		Use:   "sbom IMAGE",
		Short: "List the packages in an image (SBOM): table, JSON, CycloneDX or SPDX",
		Long: `List every OS and language package in an image with its version, PURL, the file it was read
from and the layer (and Dockerfile step) that introduced it.`,
		Example: `  drydock sbom alpine:3.16
  drydock sbom --format cyclonedx -o sbom.json docker-archive:app.tar
  drydock sbom --format spdx oci:./layout
  drydock sbom dir:./rootfs`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer e.withTimeout(cmd)()
			outs, err := parseOutputs(rf.formats, rf.output, sbomFormats)
			if err != nil {
				return err
			}
			opt, err := rf.options("sbom")
			if err != nil {
				return err
			}
			ref, err := cf.prepare(e, cmd, args)
			if err != nil {
				return err
			}
			cfg := sf.config(e, ref)
			cfg.Source.Keychain = cf.keychain
			if cfg.BaseImages, err = sf.baseImages(e); err != nil {
				return err
			}
			res, err := scan.Run(cmd.Context(), cfg)
			e.endProgress()
			if err != nil {
				return err
			}
			logNotes(e, res)
			return writeOutputs(e, outs, newReport(res, nil), opt)
		},
	}
	sf.add(cmd)
	cf.addInput(cmd)
	cf.addAuth(cmd)
	rf.add(cmd, sbomFormats)
	return cmd
}

// gateFlags configure the policy stage.
type gateFlags struct {
	severities    []string
	exitCode      int
	ignoreUnfixed bool
	failOn        string
	policies      []string
	ignoreFiles   []string
	vex           []string
	matchDeclared bool
	matchOwned    bool
	dbPath        string
	dbMaxAge      time.Duration
	scanners      []string
	secretConfig  string
	malware       malwareFlags
	licenses      bool // --scanners license (set by applyScanners)
}

func (g *gateFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVarP(&g.severities, "severity", "s", nil, "severities to report and gate on (comma-separated): CRITICAL,HIGH,MEDIUM,LOW,NEGLIGIBLE,UNKNOWN")
	f.IntVar(&g.exitCode, "exit-code", 0, "exit with this code when findings remain after filtering (Trivy's flag)")
	f.BoolVar(&g.ignoreUnfixed, "ignore-unfixed", false, "suppress vulnerabilities that have no fixed version")
	f.StringVar(&g.failOn, "fail-on", "", "fail when a finding of this severity or higher remains (Grype's flag)")
	f.StringArrayVar(&g.policies, "policy", nil, "policy file (YAML with CEL rules) or builtin:NAME; repeatable")
	f.StringArrayVar(&g.ignoreFiles, "ignore-file", nil, "ignore file with accepted risks (ids, packages, paths, expiry); repeatable")
	f.StringArrayVar(&g.vex, "vex", nil, "VEX document (OpenVEX, CycloneDX or CSAF); repeatable")
	f.BoolVar(&g.matchDeclared, "match-declared", false, "also match dependencies declared in lockfiles (not installed)")
	f.BoolVar(&g.matchOwned, "match-owned", false, "also match language packages that belong to an OS package against their language advisories")
	f.StringVar(&g.dbPath, "db", "", "vulnerability database file (default in the cache dir)")
	f.DurationVar(&g.dbMaxAge, "db-max-age", 7*24*time.Hour, "warn when the database is older than this")
}

func (g *gateFlags) addScanners(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&g.scanners, "scanners", []string{"vuln", "secret", "malware"}, "what to look for (comma-separated): vuln, secret, misconfig, malware, license (default vuln,secret,malware)")
	f.StringVar(&g.secretConfig, "secret-config", "", "secret rules file: custom rules, allow rules, disabled rules (YAML)")
	g.malware.add(cmd)
}

// applyScanners sets the scan up for the chosen scanners; it reports whether
// the advisory database is needed (vulnerabilities, malicious packages).
func (g *gateFlags) applyScanners(cfg *scan.Config) (bool, error) {
	vuln, malware := false, false
	for _, s := range g.scanners {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "vuln":
			vuln = true
		case "malware":
			malware = true
		case "secret":
			var sc *secret.Config
			if g.secretConfig != "" {
				c, err := secret.LoadConfig(g.secretConfig)
				if err != nil {
					return false, usageErr("%v", err)
				}
				sc = c
			}
			s, err := secret.New(sc)
			if err != nil {
				return false, usageErr("%v", err)
			}
			cfg.Secrets = s
		case "misconfig":
			cfg.Misconfig = misconfig.Check
		case "license":
			// Licence findings are read from the inventory after the scan.
			g.licenses = true
		case "":
		default:
			return false, usageErr("unknown scanner %q in --scanners (vuln, secret, misconfig, malware, license)", s)
		}
	}
	if g.secretConfig != "" && cfg.Secrets == nil {
		return false, usageErr("--secret-config needs the secret scanner (--scanners …,secret)")
	}
	// Malicious-package records are matched like advisories, from the same
	// database; without the vuln scanner only they are reported.
	cfg.Match.Malicious = malware
	cfg.Match.NoVulns = !vuln
	return vuln || malware, nil
}

func (g *gateFlags) engine() (*policy.Engine, error) {
	eng := &policy.Engine{Gate: policy.Gate{
		Severities: upperAll(g.severities), IgnoreUnfixed: g.ignoreUnfixed, ExitCode: g.exitCode, FailOn: strings.ToUpper(g.failOn),
	}}
	for _, s := range eng.Gate.Severities {
		if vocab.SeverityRank(s) == 0 && s != vocab.SevUnknown {
			return nil, usageErr("unknown severity %q in --severity", s)
		}
	}
	if eng.Gate.FailOn != "" && vocab.SeverityRank(eng.Gate.FailOn) == 0 && eng.Gate.FailOn != vocab.SevUnknown {
		return nil, usageErr("unknown severity %q in --fail-on", g.failOn)
	}
	for _, p := range g.policies {
		pol, err := policy.LoadPolicy(context.Background(), p)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		eng.Policies = append(eng.Policies, pol)
	}
	for _, p := range g.ignoreFiles {
		ig, err := policy.LoadIgnoreFile(p)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		eng.Ignores = append(eng.Ignores, ig)
	}
	for _, p := range g.vex {
		v, err := policy.LoadVEX(p)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		eng.VEX = append(eng.VEX, v)
	}
	return eng, nil
}

func upperAll(s []string) []string {
	var out []string
	for _, v := range s {
		if v = strings.ToUpper(strings.TrimSpace(v)); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// openDB opens the vulnerability database, saying exactly what to run when
// there is none, and warning (never refusing) when it is old.
func (g *gateFlags) openDB(e *env, cmd *cobra.Command) (*vulndb.DB, error) {
	path := g.dbPath
	if path == "" {
		root, err := e.cacheRoot()
		if err != nil {
			return nil, err
		}
		path = dbPathIn(root)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, &exitError{code: policy.ExitScanError, err: fmt.Errorf(
			"no vulnerability database at %s: run \"drydock db update\" first (or \"drydock db update --source DIR\" offline)", path)}
	}
	db, err := vulndb.Open(cmd.Context(), path)
	if err != nil {
		return nil, fmt.Errorf("opening vulnerability database: %w", err)
	}
	if meta, err := db.Meta(cmd.Context()); err == nil && g.dbMaxAge > 0 {
		if age := time.Since(meta.BuiltAt); age > g.dbMaxAge {
			e.log.Warn("vulnerability database is old: run \"drydock db update\"", "built_at", meta.BuiltAt.Format(time.RFC3339), "age", vulndb.FormatAge(age))
		}
	}
	return db, nil
}

func newImageCmd(e *env) *cobra.Command { return newScanCmd(e, false) }

// newScanCmd is the image command, or with fs the fs command: the same
// pipeline on a directory (a dir: source) with lockfiles matched
// (--match-declared on by default: a checkout has lockfiles, not installed
// packages) and its Dockerfiles checked instead of an image configuration.
func newScanCmd(e *env, fs bool) *cobra.Command {
	var sf sourceFlags
	var rf reportFlags
	var gf gateFlags
	var baseAdvice, baseAdviceOther bool
	var cf compatFlags
	var comp complianceFlags
	var vf verifyFlags
	cmd := &cobra.Command{
		Use:     "image IMAGE",
		Aliases: []string{"scan"},
		Short:   "Scan an image for vulnerabilities",
		Long: `Scan an image: build its inventory, match it against the local vulnerability database, look
for secrets in every layer (also in files a later layer deleted: they are still in the image) and in
the image config, check the image configuration (CIS Docker Benchmark), look for malware (packages
that malicious-package records name, known-bad files), apply the policy (severity gate, rules,
ignores, VEX) and write the report. --scanners chooses among vuln, secret, misconfig, malware, license.

Malware always fails the policy (exit 1, or the --exit-code value): --severity, --ignore-unfixed and
VEX never hide it; only an ignore entry naming its ID allows it (docs/malware.md).

Exit codes: 0 pass, 1 policy failure (or the --exit-code value), 2 usage error, 3 scan error,
4 supply-chain failure (--require-signature without a verified signature, or a deny rule on
image.signature, image.attestations or image.provenance; docs/supply-chain.md).
A scan that could not complete never exits 0.`,
		Example: `  drydock image alpine:3.16
  drydock image --scanners vuln --format json docker-archive:app.tar
  drydock image --secret-config .drydock/secrets.yaml app:1.2
  drydock image --exit-code 1 --severity HIGH,CRITICAL --ignore-unfixed app:1.2
  drydock image --policy builtin:no-fixable-critical --ignore-file .drydockignore.yaml app:1.2
  drydock image --format table --format sarif=drydock.sarif --format html=report.html app:1.2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer e.withTimeout(cmd)()
			outs, err := parseOutputs(rf.formats, rf.output, imageFormats)
			if err != nil {
				return err
			}
			opt, err := rf.options("vuln")
			if err != nil {
				return err
			}
			eng, ignoreNotes, err := gf.engineAndNotes()
			if err != nil {
				return err
			}
			if err := vf.validate(); err != nil {
				return err
			}
			vf.apply(eng)
			ref, err := cf.prepare(e, cmd, args)
			if err != nil {
				return err
			}
			if fs {
				ref = "dir:" + strings.TrimPrefix(ref, "dir:")
			}
			cfg := sf.config(e, ref)
			cfg.Source.Keychain = cf.keychain
			if cfg.BaseImages, err = sf.baseImages(e); err != nil {
				return err
			}
			compNotes, err := comp.prepare(&gf.scanners)
			if err != nil {
				return err
			}
			needDB, err := gf.applyScanners(&cfg)
			if err != nil {
				return err
			}
			if fs && cfg.Misconfig != nil {
				if cfg.Misconfig, err = dockerfileChecks(cmd.Context(), strings.TrimPrefix(ref, "dir:"), cfg.Secrets, cfg.Skip); err != nil {
					return err
				}
			}
			if err := checkCosignVulnOutputs(outs, needDB && !cfg.Match.NoVulns); err != nil {
				return err
			}
			if cfg.Match.Malicious {
				if err := gf.malware.validate(); err != nil {
					return err
				}
			}
			opt.ScanStarted = time.Now()
			if needDB {
				db, err := gf.openDB(e, cmd)
				if err != nil {
					return err
				}
				defer db.Close()
				cfg.DB = db
				if cfg.BaseImages, err = withPublicBases(cmd.Context(), cfg.BaseImages, db); err != nil {
					return err
				}
				cfg.Match.MatchDeclared, cfg.Match.MatchOwned = gf.matchDeclared, gf.matchOwned
				if cfg.Match.Malicious {
					if cfg.Malware, err = gf.malware.scanner(cmd.Context(), db); err != nil {
						return err
					}
				}
			}
			res, err := vf.run(cmd.Context(), cfg) // the verify stage, when asked, then the scan
			e.endProgress()
			if err != nil {
				return err
			}
			if err := scan.KeepPackageTypes(res, cf.pkgTypes); err != nil {
				return err
			}
			if gf.licenses {
				res.Licenses = license.Findings(res.Packages)
				res.AddScanner("license")
			}
			res.Notes = append(res.Notes, ignoreNotes...)
			res.Notes = append(res.Notes, compNotes...)
			if baseAdvice || baseAdviceOther {
				if cfg.BaseImages == nil {
					return usageErr("--base-advice needs a base-image index (drydock base add, or --base-index)")
				}
				if err := adviseBaseWith(cmd.Context(), e, cfg, eng, res, baseAdviceOther); err != nil {
					return err
				}
			}
			return finish(e, cmd, res, eng, outs, opt, func(rep *report.Report) { comp.apply(rep, res, gf.dbMaxAge) })
		},
	}
	sf.add(cmd)
	comp.add(cmd)
	cmd.Flags().BoolVar(&baseAdvice, "base-advice", false, "scan the newer bases of the image's base family in the base-image index, with the same database and filters, and report what each would leave and fix (a digest-pinned FROM line each)")
	cmd.Flags().BoolVar(&baseAdviceOther, "base-advice-other", false, "--base-advice, and also the bases of other repositories and tag families in the index (other distributions: the newest of each that drydock can scan), scanned the same way and ranked by what they leave (critical, high, total)")
	cf.addInput(cmd)
	cf.addAuth(cmd)
	cf.addPkgTypes(cmd)
	addAcceptedFlags(cmd)
	rf.add(cmd, imageFormats)
	rf.addScan(cmd)
	gf.add(cmd)
	gf.addScanners(cmd)
	if !fs {
		vf.add(cmd)
	}
	if fs {
		// Set through the variables, not Flags().Set: a slice flag that
		// was Set once appends the user's --scanners to it.
		gf.scanners, gf.matchDeclared = []string{"vuln", "secret", "misconfig"}, true
		fsCommand(cmd)
	}
	return cmd
}

// newReport builds the output model, once, from the scan result and the
// verdict.
func newReport(res *result.Result, v *result.Verdict) *report.Report {
	return report.New(res, v, report.Tool{Name: "drydock", Version: toolVersion()}, time.Now())
}

// finish applies the policy, builds the report, writes the outputs and sets
// the exit code. add, when given, completes the report before it is
// written (the compliance report).
func finish(e *env, cmd *cobra.Command, res *result.Result, eng *policy.Engine, outs []output, opt writer.Options, add ...func(*report.Report)) error {
	logNotes(e, res)
	verdict, err := eng.Evaluate(cmd.Context(), res)
	if err != nil {
		return fmt.Errorf("evaluating policy: %w", err)
	}
	rep := newReport(res, verdict)
	for _, f := range add {
		f(rep)
	}
	if err := writeOutputs(e, outs, rep, opt); err != nil {
		return err
	}
	if !verdict.Pass {
		for _, f := range verdict.Failures {
			e.log.Error("policy failed", "rule", f.RuleID, "reason", f.Message)
		}
	}
	e.exit = verdict.ExitCode
	return nil
}

func logNotes(e *env, res *result.Result) {
	for _, n := range res.Notes {
		attrs := []any{}
		if n.Path != "" {
			attrs = append(attrs, "path", n.Path)
		}
		if n.Layer != "" {
			attrs = append(attrs, "layer", n.Layer)
		}
		if n.Level == "warning" {
			e.log.Warn(n.Message, attrs...)
		} else {
			e.log.Info(n.Message, attrs...)
		}
	}
	for _, c := range res.CoverageGaps() {
		msg := "incomplete advisory coverage: findings may be missing"
		attrs := []any{"ecosystem", c.Ecosystem, "status", c.Status, "packages", c.Packages}
		if len(c.Reasons) > 0 {
			attrs = append(attrs, "reason", c.Reasons[0])
		}
		e.log.Warn(msg, attrs...)
	}
}

func newScanSBOMCmd(e *env) *cobra.Command {
	var rf reportFlags
	var gf gateFlags
	var cf compatFlags
	cmd := &cobra.Command{
		Use:   "scan-sbom FILE",
		Short: "Scan an SBOM (CycloneDX or SPDX JSON, from drydock, Syft or Trivy) for vulnerabilities",
		Example: `  drydock sbom --format cyclonedx -o bom.json app:1.2 && drydock scan-sbom bom.json
  drydock scan-sbom --format sarif syft-sbom.spdx.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer e.withTimeout(cmd)()
			outs, err := parseOutputs(rf.formats, rf.output, scanFormats)
			if err != nil {
				return err
			}
			opt, err := rf.options("vuln")
			if err != nil {
				return err
			}
			eng, ignoreNotes, err := gf.engineAndNotes()
			if err != nil {
				return err
			}
			if _, err := cf.prepare(e, cmd, args); err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return &exitError{code: policy.ExitScanError, err: fmt.Errorf("opening SBOM: %w", err)}
			}
			defer f.Close()
			doc, err := sbom.Decode(cmd.Context(), f)
			if err != nil {
				return &exitError{code: policy.ExitScanError, err: fmt.Errorf("reading SBOM %s: %w", args[0], err)}
			}
			res := doc.Result()
			db, err := gf.openDB(e, cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := scan.MatchAndEnrich(cmd.Context(), res, db, match.Options{MatchDeclared: gf.matchDeclared, MatchOwned: gf.matchOwned, Malicious: true}, nil); err != nil {
				return err
			}
			if err := scan.KeepPackageTypes(res, cf.pkgTypes); err != nil {
				return err
			}
			res.Notes = append(res.Notes, ignoreNotes...)
			return finish(e, cmd, res, eng, outs, opt)
		},
	}
	cf.addPkgTypes(cmd)
	addAcceptedFlags(cmd)
	rf.add(cmd, scanFormats)
	rf.addScan(cmd)
	gf.add(cmd)
	return cmd
}
