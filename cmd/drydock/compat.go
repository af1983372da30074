package main

// Flags and files that Trivy's users expect, on the commands where they
// mean something (docs/trivy-users.md has the whole map): --input, registry
// credentials, --pkg-types, the flags that ask for what drydock always does
// (--list-all-pkgs, --skip-db-update, --offline-scan), accepted so that
// their scripts run unchanged, and the ignore files of the working
// directory.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/scan"
)

type compatFlags struct {
	input string

	username, password, registryToken string
	passwordStdin                     bool
	// keychain holds the credentials given as flags (or their
	// $DRYDOCK_ variables), nil when there are none: the Docker config
	// file and its helpers then answer (source.Options.Keychain).
	keychain authn.Keychain

	pkgTypes []string
}

// addInput adds Trivy's --input FILE: the image as an archive, instead of
// the IMAGE argument (which becomes optional).
func (c *compatFlags) addInput(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.input, "input", "", "image archive to scan instead of the IMAGE argument (Trivy's spelling): a docker save or OCI tar, gzip or zstd too; never a registry")
	cmd.Args = cobra.RangeArgs(0, 1)
}

// addAuth adds Trivy's registry credential flags. The environment forms are
// the usual ones ($DRYDOCK_USERNAME, $DRYDOCK_PASSWORD,
// $DRYDOCK_REGISTRY_TOKEN): prefer them, or --password-stdin, to a password
// on the command line, which other users of the machine can read.
func (c *compatFlags) addAuth(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.username, "username", "", "registry user name (with --password or --password-stdin); default: the Docker config file and its credential helpers")
	f.StringVar(&c.password, "password", "", "registry password; prefer $DRYDOCK_PASSWORD or --password-stdin")
	f.BoolVar(&c.passwordStdin, "password-stdin", false, "read the registry password from standard input")
	f.StringVar(&c.registryToken, "registry-token", "", "registry bearer token (instead of --username and --password)")
}

// addPkgTypes adds Trivy's --pkg-types: which packages are matched against
// advisories.
func (c *compatFlags) addPkgTypes(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&c.pkgTypes, "pkg-types", scan.PkgTypes(), "package types to match against advisories (comma-separated): os, library; the others are listed but not matched, and the report says so (coverage \"excluded\")")
}

// addAcceptedFlags adds the flags that ask for what drydock always does.
func addAcceptedFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Bool("list-all-pkgs", false, "accepted for Trivy's scripts: the JSON report always lists every package")
	f.Bool("skip-db-update", false, "accepted for Trivy's scripts: a scan never updates the database (\"drydock db update\" does)")
	f.Bool("offline-scan", false, "accepted for Trivy's scripts: a scan never calls an API to identify packages (it contacts only the registry that holds the image)")
}

// prepare checks the flags and resolves them before a scan: the image
// reference (the argument or --input), the registry credentials, the
// package types.
func (c *compatFlags) prepare(e *env, cmd *cobra.Command, args []string) (string, error) {
	ref, err := c.reference(cmd, args)
	if err != nil {
		return "", err
	}
	for i, t := range c.pkgTypes {
		c.pkgTypes[i] = strings.ToLower(strings.TrimSpace(t))
		if !slices.Contains(scan.PkgTypes(), c.pkgTypes[i]) {
			return "", usageErr("unknown package type %q in --pkg-types (%s)", t, strings.Join(scan.PkgTypes(), ", "))
		}
	}
	if err := c.credentials(e.stdin); err != nil {
		return "", err
	}
	return ref, nil
}

// reference is the image to scan: the argument, or --input as a local
// path (it must never turn into a registry pull: "app" that does not exist
// is reported missing, not pulled).
func (c *compatFlags) reference(cmd *cobra.Command, args []string) (string, error) {
	switch {
	case c.input != "" && len(args) > 0:
		return "", usageErr("give the image either as the argument (%q) or with --input, not both", args[0])
	case c.input == "" && len(args) == 0:
		if cmd.Flags().Lookup("input") != nil {
			return "", usageErr("no image: give a reference (alpine:3.16, app.tar, oci:DIR…) or --input FILE")
		}
		return "", usageErr("no image given")
	case c.input == "":
		return args[0], nil
	}
	p := c.input
	for _, s := range []string{"registry:", "docker://"} {
		if strings.HasPrefix(p, s) {
			return "", usageErr("--input takes a file, not a registry reference (%q): give it as the argument", p)
		}
	}
	for _, s := range []string{"docker-archive:", "oci-archive:", "oci:", "dir:"} {
		if strings.HasPrefix(p, s) {
			return p, nil
		}
	}
	if _, err := os.Stat(p); err != nil && !filepath.IsAbs(p) && !strings.HasPrefix(p, ".") && !strings.HasPrefix(p, "~") {
		// Looks like a path to the source stage: missing, it is an error
		// naming the file rather than a registry reference.
		p = "./" + p
	}
	return p, nil
}

// credentials builds the keychain of the credential flags, if any.
func (c *compatFlags) credentials(stdin io.Reader) error {
	if c.passwordStdin {
		if c.password != "" {
			return usageErr("--password and --password-stdin are exclusive")
		}
		if stdin == nil {
			return usageErr("--password-stdin: no standard input")
		}
		b, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
		if err != nil {
			return usageErr("--password-stdin: reading standard input: %v", err)
		}
		c.password = strings.TrimRight(string(b), "\r\n")
		if c.password == "" {
			return usageErr("--password-stdin: standard input is empty")
		}
	}
	switch {
	case c.registryToken != "" && (c.username != "" || c.password != ""):
		return usageErr("--registry-token replaces --username and --password: give one or the other")
	case c.registryToken != "":
		c.keychain = staticKeychain{authn.FromConfig(authn.AuthConfig{RegistryToken: c.registryToken})}
	case c.username != "" && c.password != "":
		c.keychain = staticKeychain{authn.FromConfig(authn.AuthConfig{Username: c.username, Password: c.password})}
	case c.username != "":
		return usageErr("--username %q needs a password: --password, $DRYDOCK_PASSWORD or --password-stdin", c.username)
	case c.password != "":
		return usageErr("a password needs --username (or $DRYDOCK_USERNAME)")
	}
	return nil
}

// staticKeychain gives the same credentials for every registry, as
// Trivy's flags do: the scan talks to the one registry that holds the
// image.
type staticKeychain struct{ auth authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.auth, nil }

// workdirIgnoreFiles are read from the working directory when no ignore
// file is given (by flag, $DRYDOCK_IGNORE_FILE or the config file), in
// this order: drydock's own, then Trivy's two. Trivy reads .trivyignore so
// by default; drydock reads all three (.trivyignore.yaml only when named,
// in Trivy).
func workdirIgnoreFiles() []string {
	return []string{".drydockignore.yaml", ".trivyignore.yaml", ".trivyignore"}
}

// engineAndNotes is g.engine() with the working directory's ignore files
// when none is given, and a note for each one read (the caller adds them to
// the result: logged on stderr, listed in the report). --ignore-file ""
// reads none.
func (g *gateFlags) engineAndNotes() (*policy.Engine, []inventory.Note, error) {
	var notes []inventory.Note
	if len(g.ignoreFiles) > 0 {
		g.ignoreFiles = slices.DeleteFunc(g.ignoreFiles, func(p string) bool { return p == "" })
	} else {
		for _, name := range workdirIgnoreFiles() {
			if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
				g.ignoreFiles = append(g.ignoreFiles, name)
				notes = append(notes, inventory.Note{Level: "info", Path: name,
					Message: "ignore file read from the working directory (no --ignore-file given; --ignore-file '' reads none)"})
			}
		}
	}
	eng, err := g.engine()
	if err != nil && len(notes) > 0 {
		err = fmt.Errorf("%w (an ignore file of the working directory, read because no --ignore-file was given; --ignore-file '' reads none)", err)
	}
	return eng, notes, err
}
