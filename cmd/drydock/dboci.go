package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/policy"
	dbupdate "github.com/drydock-scan/drydock/internal/vulndb/update"
)

// dbRef parses the REF of db push and db pull.
func dbRef(arg string, rf *registryFlags) (name.Reference, error) {
	ref, err := name.ParseReference(arg, rf.nameOptions()...)
	if err != nil {
		return nil, usageErr("%q is not a registry reference: %v", arg, err)
	}
	return ref, nil
}

func newDBPushCmd(e *env) *cobra.Command {
	var rf registryFlags
	var keyPath, dbPath string
	cmd := &cobra.Command{
		Use:   "push REF --key KEY.pem",
		Short: "Push the local database to a registry as a signed OCI artifact",
		Long: `Push the database (as "drydock db update" built it) to an OCI registry: the file, zstd-compressed,
is the one layer of an artifact (artifactType ` + dbupdate.DBArtifactType + `) whose annotations give its
schema version, build time, sources and the file's own digest. The manifest digest is signed with an
ECDSA P-256 key, as "drydock attest" signs (a DSSE envelope in a Sigstore bundle v0.3, offline), and
the bundle is attached as an OCI 1.1 referrer (the sha256-<hex> tag index on registries without the
referrers API). The tag is set only once the signature is in place. "drydock db pull REF --key pub.pem"
verifies and installs it. See docs/database.md.`,
		Example: `  drydock db update
  drydock db push --key drydock.key registry.internal/security/drydock-db:2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer e.withTimeout(cmd)()
			ctx := cmd.Context()
			if keyPath == "" {
				return usageErr("--key is required: the ECDSA P-256 private key (PEM) to sign the database with")
			}
			key, err := readPrivateKey(keyPath)
			if err != nil {
				return err
			}
			ref, err := dbRef(args[0], &rf)
			if err != nil {
				return err
			}
			if dbPath == "" {
				root, err := e.cacheRoot()
				if err != nil {
					return err
				}
				dbPath = dbPathIn(root)
			}
			res, err := dbupdate.Push(ctx, ref, dbupdate.PushOptions{Path: dbPath, Key: key, Remote: rf.options(ctx), Logger: e.log})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "pushed %s (built %s, schema %d) as %s, signature %s\n",
				dbPath, res.Metadata.BuiltAt.UTC().Format(time.RFC3339), res.Metadata.SchemaVersion, res.Manifest, res.Referrer)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "ECDSA P-256 private key to sign with (unencrypted PEM)")
	cmd.Flags().StringVar(&dbPath, "db", "", "database file to push (default in the cache dir)")
	rf.add(cmd)
	return cmd
}

func newDBPullCmd(e *env) *cobra.Command {
	var rf registryFlags
	var keyPath, dbPath string
	cmd := &cobra.Command{
		Use:   "pull REF --key PUB.pem",
		Short: "Pull a signed database from a registry, verify it and install it",
		Long: `Resolve REF to a manifest digest once, find a signature over exactly that digest that verifies
with the public key (the referrers API, else the sha256-<hex> tag index), and only then download the
database: its compressed and decompressed digests and sizes are checked against the signed manifest
while it streams to a temporary file beside the database, the file is read whole as a scan would, and
it replaces the database in one rename. An unsigned artifact, a signature by another key, or any
content that does not match is refused, and the working database stays as it was.

Exits 0 when the database is installed (or already was this one), 1 when the artifact is not signed
by the key, 3 on any other failure.`,
		Example: `  drydock db pull --key drydock.pub registry.internal/security/drydock-db:2
  drydock db pull --key drydock.pub --db /srv/drydock/drydock.db registry.internal/security/drydock-db@sha256:…`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer e.withTimeout(cmd)()
			ctx := cmd.Context()
			if keyPath == "" {
				return usageErr("--key is required: the ECDSA P-256 public key (PEM) the database must be signed with")
			}
			pub, err := readPublicKey(keyPath)
			if err != nil {
				return err
			}
			ref, err := dbRef(args[0], &rf)
			if err != nil {
				return err
			}
			if dbPath == "" {
				root, err := e.cacheRoot()
				if err != nil {
					return err
				}
				dbPath = dbPathIn(root)
			}
			res, err := dbupdate.Pull(ctx, ref, dbupdate.PullOptions{Path: dbPath, Key: pub, Remote: rf.options(ctx), Logger: e.log})
			if errors.Is(err, dbupdate.ErrUnsigned) {
				return &exitError{code: policy.ExitFail, err: fmt.Errorf("%w (the database at %s was not changed)", err, dbPath)}
			}
			if err != nil {
				return &exitError{code: policy.ExitScanError, err: fmt.Errorf("%w (the database at %s was not changed)", err, dbPath)}
			}
			what := "installed"
			if res.UpToDate {
				what = "already installed"
			}
			fmt.Fprintf(e.stderr, "vulnerability database %s: %s (built %s, schema %d, signature verified with %s) → %s\n",
				what, res.Manifest, res.Metadata.BuiltAt.UTC().Format(time.RFC3339), res.Metadata.SchemaVersion, keyPath, dbPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "ECDSA P-256 public key (PEM) the database must be signed with")
	cmd.Flags().StringVar(&dbPath, "db", "", "database file to replace (default in the cache dir)")
	rf.add(cmd)
	return cmd
}
