package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/baseimage"
	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/source"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// The base-image index (internal/baseimage): `drydock base add` indexes
// private bases from their manifests and configs (no layer is read),
// `drydock base import` a table of published ones, `drydock base list`
// shows it. Scans attribute images to the bases of this index.

// baseIndexPath is the index a command uses: --base-index, else
// <cache>/baseimages/index.json.
func baseIndexPath(e *env, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	root, err := e.cacheRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "baseimages", "index.json"), nil
}

// openBaseIndex loads the index a base command works on, and its path.
func openBaseIndex(e *env, flag string) (string, *baseimage.Index, error) {
	path, err := baseIndexPath(e, flag)
	if err != nil {
		return "", nil, err
	}
	ix, err := baseimage.Load(path)
	if err != nil {
		return "", nil, &exitError{code: policy.ExitScanError, err: err}
	}
	return path, ix, nil
}

func newBaseCmd(e *env) *cobra.Command {
	var indexFlag string
	cmd := &cobra.Command{
		Use:   "base",
		Short: "Index the base images drydock attributes images to (add, import, list)",
		Long: `drydock tells which base image an image was built on — from its verified layers, the OCI base
annotations, or its history — and which of its findings come from the base. Bases are known from an
index: add your private bases with "drydock base add", tables of published bases with "drydock base
import". Only manifests and configs are read.`,
	}
	cmd.PersistentFlags().StringVar(&indexFlag, "base-index", "", "the base-image index file (default <cache-dir>/baseimages/index.json)")
	cmd.AddCommand(newBaseAddCmd(e, &indexFlag), newBaseImportCmd(e, &indexFlag), newBaseListCmd(e, &indexFlag))
	return cmd
}

func newBaseAddCmd(e *env, indexFlag *string) *cobra.Command {
	var platform string
	var insecure bool
	cmd := &cobra.Command{
		Use:   "add IMAGE...",
		Short: "Index base images (a registry reference, oci:DIR, oci-archive:FILE, docker-archive:FILE)",
		Example: `  drydock base add registry.example.com/platform/base:2.1
  drydock base add oci-archive:busybox-1.37.0-musl.oci.tar`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, ix, err := openBaseIndex(e, *indexFlag)
			if err != nil {
				return err
			}
			for _, ref := range args {
				entry, err := baseEntry(cmd.Context(), e, ref, source.Options{Platform: platform, Insecure: insecure, Logger: e.log})
				if err != nil {
					return &exitError{code: policy.ExitScanError, err: err}
				}
				if err := ix.Add(entry); err != nil {
					return &exitError{code: policy.ExitScanError, err: fmt.Errorf("%s: %w", ref, err)}
				}
				fmt.Fprintf(e.stdout, "added %s (%d layer(s), %s)\n", entry.Name(), len(entry.DiffIDs), entry.ManifestDigest)
			}
			if err := ix.Save(path); err != nil {
				return &exitError{code: policy.ExitScanError, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "platform of a multi-platform base (os/arch[/variant])")
	cmd.Flags().BoolVar(&insecure, "insecure-registry", false, "allow plain-HTTP registries and skip TLS verification")
	return cmd
}

// baseEntry opens ref's manifest and config (never its layers) and makes
// its index entry.
func baseEntry(ctx context.Context, e *env, ref string, opt source.Options) (baseimage.Entry, error) {
	img, err := source.Open(ctx, ref, opt)
	if err != nil {
		return baseimage.Entry{}, err
	}
	defer img.Close()
	if img.Config == nil {
		return baseimage.Entry{}, fmt.Errorf("%s: a base image needs a config (a dir: source has none)", ref)
	}
	entry := baseimage.Entry{ManifestDigest: img.ManifestDigest, Created: img.Config.Created.Time, Source: ref,
		Origin: "drydock base add", Platform: strings.Trim(img.OS+"/"+img.Arch+"/"+img.Variant, "/")}
	if d, err := img.V1.ConfigName(); err == nil {
		entry.ConfigDigest = d.String()
	}
	for _, d := range img.Config.RootFS.DiffIDs {
		entry.DiffIDs = append(entry.DiffIDs, d.String())
	}
	for _, h := range img.Config.History {
		entry.CreatedBy = append(entry.CreatedBy, h.CreatedBy)
	}
	var tags []string
	names := append([]string{}, img.RepoTags...)
	if img.Ref != nil {
		names = append(names, img.Ref.Name())
	}
	for _, n := range names {
		t, err := name.NewTag(n, name.WeakValidation)
		if err != nil {
			continue
		}
		repo := t.Context().Name()
		// Official images keep their short name, as people write FROM.
		repo = strings.TrimPrefix(strings.TrimPrefix(repo, "index.docker.io/library/"), "index.docker.io/")
		if entry.Repository == "" {
			entry.Repository = repo
		}
		if repo == entry.Repository {
			tags = append(tags, t.TagStr())
		}
	}
	if entry.Repository == "" {
		entry.Repository = img.Name
	}
	entry.Tags = baseimage.SortTags(tags)
	e.log.Debug("base indexed", "ref", ref, "repository", entry.Repository, "tags", entry.Tags, "layers", len(entry.DiffIDs))
	return entry, nil
}

func newBaseImportCmd(e *env, indexFlag *string) *cobra.Command {
	return &cobra.Command{
		Use:   "import TABLE.json...",
		Short: `Index a table of published bases ({"records": [{diff_id, manifest_digest, tags_when_first_seen…}]})`,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, ix, err := openBaseIndex(e, *indexFlag)
			if err != nil {
				return err
			}
			for _, p := range args {
				f, err := os.Open(p)
				if err != nil {
					return &exitError{code: policy.ExitScanError, err: err}
				}
				es, err := baseimage.ImportTable(f, filepath.Base(p))
				f.Close()
				if err != nil {
					return &exitError{code: policy.ExitScanError, err: err}
				}
				if err := ix.Add(es...); err != nil {
					return &exitError{code: policy.ExitScanError, err: fmt.Errorf("%s: %w", p, err)}
				}
				fmt.Fprintf(e.stdout, "imported %d base image(s) from %s\n", len(es), p)
			}
			if err := ix.Save(path); err != nil {
				return &exitError{code: policy.ExitScanError, err: err}
			}
			return nil
		},
	}
}

func newBaseListCmd(e *env, indexFlag *string) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the indexed base images",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, ix, err := openBaseIndex(e, *indexFlag)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tLAYERS\tMANIFEST\tCREATED\tORIGIN")
			for _, en := range ix.Entries {
				created := ""
				if !en.Created.IsZero() {
					created = en.Created.UTC().Format("2006-01-02")
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", en.Name(), len(en.DiffIDs), shortHash(en.ManifestDigest), created, en.Origin)
			}
			return tw.Flush()
		},
	}
}

// shortHash is a digest's first 12 hex digits.
func shortHash(d string) string {
	_, h, ok := strings.Cut(d, ":")
	if !ok {
		h = d
	}
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// withPublicBases adds the tables of published base images that ship with
// the database (`drydock db update --base-images`, or a mirror's
// base-images/ folder) to the index a scan attributes images to: ix's own
// entries (private bases, `drydock base add`) stay, and a published base
// with the same manifest is merged into them. nil ix and no tables: nil
// (no attribution). A table the database carries but that cannot be read
// is a scan error naming it.
func withPublicBases(ctx context.Context, ix *baseimage.Index, db *vulndb.DB) (*baseimage.Index, error) {
	tables, err := db.BaseImages(ctx)
	if err != nil {
		return nil, &exitError{code: policy.ExitScanError, err: err}
	}
	if len(tables) == 0 {
		return ix, nil
	}
	out := &baseimage.Index{}
	if ix != nil {
		out.Entries = slices.Clone(ix.Entries)
	}
	for _, t := range tables {
		es, err := baseimage.ImportTable(bytes.NewReader(t.JSON), "database "+t.Name)
		if err != nil {
			return nil, &exitError{code: policy.ExitScanError, err: err}
		}
		if err := out.Add(es...); err != nil {
			return nil, &exitError{code: policy.ExitScanError, err: fmt.Errorf("adding the database's base-image table %s: %w", t.Name, err)}
		}
	}
	return out, nil
}
