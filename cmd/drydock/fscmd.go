package main

import (
	"context"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/misconfig/dockerfile"
	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/secret"
	"github.com/drydock-scan/drydock/internal/walk"
)

func newFSCmd(e *env) *cobra.Command { return newScanCmd(e, true) }

// fsCommand turns the image command into drydock fs: its text, and the
// defaults a source checkout needs (lockfiles matched, Dockerfiles
// checked). Flags that only mean something for an image are hidden, not
// removed, so a config file shared with drydock image still loads.
func fsCommand(cmd *cobra.Command) {
	cmd.Use = "fs PATH"
	cmd.Aliases = nil
	cmd.Short = "Scan a directory or source checkout: lockfiles, secrets, Dockerfiles"
	cmd.Long = `Scan a directory, such as a source checkout: read its lockfiles and package metadata and match
them against the local vulnerability database (--match-declared is on: a checkout has lockfiles, not
installed packages), look for secrets in its files, and check the Dockerfiles it contains (files named
Dockerfile, *.Dockerfile, Dockerfile.*: root user, ADD from a URL, latest or missing tags, no
HEALTHCHECK, apt-get install without --no-install-recommends, secrets in ENV and ARG). The policy,
outputs and exit codes are drydock image's; the path is read as drydock image dir:PATH reads it.

Exit codes: 0 pass, 1 policy failure (or the --exit-code value), 2 usage error, 3 scan error.`
	cmd.Example = `  drydock fs .
  drydock fs --exit-code 1 --severity HIGH,CRITICAL --format sarif=drydock.sarif .
  drydock fs --scanners misconfig,secret ./service`
	f := cmd.Flags()
	if md := f.Lookup("match-declared"); md != nil {
		md.DefValue = "true" // the value is set by newScanCmd
	}
	if sc := f.Lookup("scanners"); sc != nil {
		sc.Usage = "what to look for (comma-separated): vuln, secret, misconfig (the Dockerfiles), malware, license"
		sc.DefValue = "[vuln,secret,misconfig]"
	}
	for _, name := range []string{"platform", "insecure-registry", "base-index", "base-advice", "base-advice-other", "username", "password", "password-stdin", "registry-token", "image-src", "docker-host", "podman-host"} {
		if f.Lookup(name) != nil {
			_ = f.MarkHidden(name)
		}
	}
}

// dockerfileChecks replaces the image configuration checks for fs: a
// directory has no image configuration, but it may hold Dockerfiles. They
// are read from disk before the scan (not in the walk, so the walker and its
// per-layer cache are unchanged), so that a failure to read them fails the
// scan instead of being lost in the pipeline's check hook, which returns no
// error.
func dockerfileChecks(ctx context.Context, root string, s *secret.Scanner, skip *walk.Skipper) (func(inventory.Image, *inventory.Inventory) []finding.Misconfig, error) {
	if _, err := os.Stat(root); err != nil {
		// The source stage reports a missing path, as drydock image does.
		return func(inventory.Image, *inventory.Inventory) []finding.Misconfig { return nil }, nil
	}
	if s == nil {
		// ENV and ARG secrets are a Dockerfile check: with --scanners
		// misconfig alone the built-in rules still look at them.
		var err error
		if s, err = secret.Default(); err != nil {
			return nil, &exitError{code: policy.ExitScanError, err: err}
		}
	}
	found, err := dockerfile.CheckDir(ctx, root, s, skip)
	if err != nil {
		return nil, &exitError{code: policy.ExitScanError, err: err}
	}
	return func(inventory.Image, *inventory.Inventory) []finding.Misconfig { return found }, nil
}

// newRootfsCmd is Trivy's rootfs: drydock image dir:PATH under another
// name (an unpacked root filesystem: installed packages, the image checks
// that apply to files).
func newRootfsCmd(e *env) *cobra.Command {
	cmd := newImageCmd(e)
	run := cmd.RunE
	cmd.Use = "rootfs PATH"
	cmd.Aliases = nil
	cmd.Short = "Scan an unpacked root filesystem (drydock image dir:PATH)"
	cmd.Example = "  drydock rootfs ./rootfs\n  drydock rootfs --format json /mnt/image-root"
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 1 {
			args = []string{"dir:" + strings.TrimPrefix(args[0], "dir:")}
		}
		return run(c, args)
	}
	return cmd
}
