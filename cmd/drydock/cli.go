package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/writer"
)

// version is set at link time: -ldflags "-X main.version=v1.2.3".
var version = ""

func toolVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// env is what the commands share: streams, logger, global flags.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	quiet, debug   bool
	cacheDir       string
	// timeout bounds a whole scan (--timeout); 0: none.
	timeout time.Duration
	log     *slog.Logger
	// exit is the code the command asks for when it returns no error.
	exit int
	// limitMemory, if set, is called before a one-shot scan (see runWith).
	limitMemory func()
	// started is set once the command line was accepted (flags parsed,
	// command found, arguments counted): an error before that is a usage
	// error, whatever its text.
	started bool
	// configFile is the settings file read, if any (settings.go).
	configFile string
	// progress draws layer progress on a terminal (nil otherwise).
	progress *layerProgress
}

// withTimeout puts the --timeout deadline on cmd's context: every stage of
// the scan (registry requests, layer reads, parsing, matching) stops when it
// passes, and the command exits 3.
func (e *env) withTimeout(cmd *cobra.Command) context.CancelFunc {
	if e.timeout <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), e.timeout)
	cmd.SetContext(ctx)
	return cancel
}

func (e *env) endProgress() {
	if e.progress != nil {
		e.progress.finish()
	}
}

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: policy.ExitUsage, err: fmt.Errorf(format, args...)}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runWith(ctx, args, stdin, stdout, stderr, nil)
}

// runWith is run with limitMemory, which the one-shot scan commands (image,
// sbom, scan-sbom) call before they start: main passes a soft memory limit
// for the process; tests, which run many commands in one process, pass nil.
func runWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, limitMemory func()) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, limitMemory: limitMemory}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return e.exit
	}
	if e.timeout > 0 && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("the scan did not finish within %s (--timeout): %w", e.timeout, err)
	}
	fmt.Fprintf(stderr, "drydock: %v\n", err)
	var xe *exitError
	if errors.As(err, &xe) {
		return xe.code
	}
	// Classified by when the error happened, never by its text (a file named
	// "accepts x" in a layer must not turn a scan error into a usage error).
	if !e.started {
		return policy.ExitUsage
	}
	return policy.ExitScanError
}

// oneShotScan reports whether cmd scans one image and exits (as opposed to
// the server and workers, which run scans side by side for hours).
func oneShotScan(cmd *cobra.Command) bool {
	switch cmd.Name() {
	case "image", "sbom", "scan-sbom", "attest", "fs", "rootfs", "fix":
		return cmd.Parent() != nil && cmd.Parent().Parent() == nil
	}
	return false
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "drydock",
		Short: "Container image scanner: SBOM, vulnerabilities, secrets and misconfigurations",
		Long: `drydock scans container images — from a registry, a docker-archive or OCI tar, an OCI layout
directory or an unpacked root filesystem — and reports what is inside them and what is wrong with them.
It works fully offline once its vulnerability database is built ("drydock db update").

Image references:
  alpine:3.16, registry.example.com:5000/team/app@sha256:…   a registry (no Docker daemon needed)
  registry:NAME          force a registry reference
  docker-archive:PATH    a "docker save" tar
  oci:DIR[:TAG|@DIGEST]  an OCI image layout directory
  oci-archive:PATH       a tar of an OCI image layout
  dir:PATH               an unpacked root filesystem
  docker:IMAGE           an image in the local Docker Engine (its API socket: --docker-host)
  podman:IMAGE           an image in the local Podman (its API socket: --podman-host)
A path without a scheme is recognised by its contents. A plain name not found in its registry is
looked for in Docker, then Podman (--image-src remote,docker,podman; said when it happens).`,
		Example: `  drydock db update
  drydock image alpine:3.16
  drydock image --severity HIGH,CRITICAL --exit-code 1 app.tar
  drydock image --format sarif -o drydock.sarif registry.example.com/app:1.2
  drydock sbom --format cyclonedx -o sbom.json docker-archive:app.tar
  drydock scan-sbom sbom.json`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			// Flags not given on the command line: from $DRYDOCK_<FLAG>,
			// else from the config file (settings.go).
			if err := applySettings(e, cmd); err != nil {
				return err
			}
			e.started = true
			level := slog.LevelInfo
			switch {
			case e.debug:
				level = slog.LevelDebug
			case e.quiet:
				level = slog.LevelError
			}
			e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
			if e.limitMemory != nil && oneShotScan(cmd) {
				e.limitMemory()
			}
			return nil
		},
	}
	root.PersistentFlags().String("config", "", "YAML file of settings: flags by name, at the top level or under a command's name (default: "+defaultConfigFile+" in the working directory, if any; $DRYDOCK_CONFIG). Precedence: flag > $DRYDOCK_<FLAG> > file > default")
	root.PersistentFlags().BoolVarP(&e.quiet, "quiet", "q", false, "only print errors on stderr")
	root.PersistentFlags().BoolVar(&e.debug, "debug", false, "print debug logs on stderr")
	root.PersistentFlags().StringVar(&e.cacheDir, "cache-dir", "", "cache directory (default $DRYDOCK_CACHE_DIR or the user cache dir)")
	root.PersistentFlags().DurationVar(&e.timeout, "timeout", 5*time.Minute, "deadline for a whole scan (image, sbom, scan-sbom), as Trivy's; 0 for none")
	root.AddCommand(
		newVersionCmd(e),
		newSBOMCmd(e),
		newImageCmd(e),
		newFSCmd(e),
		newRootfsCmd(e),
		newServerCmd(e),
		newWorkerCmd(e),
		newTokenCmd(e),
		newScanSBOMCmd(e),
		newDBCmd(e),
		newPolicyCmd(e),
		newCacheCmd(e),
		newAttestCmd(e),
		newVerifyAttestationCmd(e),
		newBaseCmd(e),
		newFixCmd(e),
	)
	return root
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print drydock's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(e.stdout, "drydock %s (%s, %s/%s)\n", toolVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// cacheRoot is drydock's cache directory.
func (e *env) cacheRoot() (string, error) {
	if e.cacheDir != "" {
		return e.cacheDir, nil
	}
	if d := os.Getenv("DRYDOCK_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the user cache dir (set --cache-dir): %w", err)
	}
	return filepath.Join(d, "drydock"), nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// output is one --format value: a format and where it goes.
type output struct {
	format string
	path   string // "" = stdout (or -o)
}

func parseOutputs(formats []string, outPath string, allowed []string) ([]output, error) {
	if len(formats) == 0 {
		formats = []string{"table"}
	}
	var outs []output
	stdout := 0
	for _, f := range formats {
		for _, part := range strings.Split(f, ",") {
			name, path, _ := strings.Cut(part, "=")
			name = strings.TrimSpace(name)
			if !slices.Contains(allowed, name) {
				return nil, usageErr("unknown format %q (one of %s)", name, strings.Join(allowed, ", "))
			}
			if path == "" {
				path = outPath
				stdout++
			}
			outs = append(outs, output{format: name, path: path})
		}
	}
	if stdout > 1 {
		return nil, usageErr("only one --format may go to standard output; give the others a file (--format json=report.json)")
	}
	return outs, nil
}

func writeOutputs(e *env, outs []output, rep *report.Report, opt writer.Options) error {
	for _, o := range outs {
		w := e.stdout
		var f *os.File
		if o.path != "" && o.path != "-" {
			var err error
			f, err = os.Create(o.path)
			if err != nil {
				return fmt.Errorf("creating %s: %w", o.path, err)
			}
			w = f
		}
		oo := opt
		oo.Color = opt.Color && f == nil && isTerminal(e.stdout) && os.Getenv("NO_COLOR") == ""
		err := writer.Write(w, o.format, rep, oo)
		if f != nil {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return fmt.Errorf("writing %s report: %w", o.format, err)
		}
	}
	return nil
}
