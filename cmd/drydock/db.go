package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/vulndb"
	dbupdate "github.com/drydock-scan/drydock/internal/vulndb/update" // not "update": the e2e tests declare var update
)

func dbPathIn(cacheRoot string) string { return filepath.Join(cacheRoot, "db", "drydock.db") }

func newDBCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the local vulnerability database",
	}
	cmd.AddCommand(newDBUpdateCmd(e), newDBStatusCmd(e))
	return cmd
}

func newDBUpdateCmd(e *env) *cobra.Command {
	var sources []string
	var ecosystems []string
	var dbPath string
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download or refresh advisories and rebuild the database",
		Long: `Download OSV advisories (per-ecosystem all.zip archives) and native feeds (Alpine secdb,
CISA KEV, NVD JSON) and build the local database. Mirrors are tried in order; unchanged sources
are not downloaded again (ETag / Last-Modified). The new database is built beside the old one and
swapped in atomically: a failed update leaves the old database working.

A --source may be a URL or a local directory laid out like the public OSV bucket
(<source>/<Ecosystem>/all.zip), optionally with alpine-secdb/, cisa-kev/ and nvd/ folders.`,
		Example: `  drydock db update
  drydock db update --source ./mirror                 # air-gapped
  drydock db update --source https://mirror.example/osv --source https://osv-vulnerabilities.storage.googleapis.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			root, err := e.cacheRoot()
			if err != nil {
				return err
			}
			if dbPath == "" {
				dbPath = dbPathIn(root)
			}
			opt := dbupdate.Options{
				Mirrors:    sources,
				Ecosystems: ecosystems,
				Path:       dbPath,
				CacheDir:   filepath.Join(root, "downloads"),
				Logger:     e.log,
			}
			if isTerminal(e.stderr) && !e.quiet {
				opt.Progress = e.stderr
			}
			res, err := dbupdate.Run(cmd.Context(), opt)
			if err != nil {
				return err
			}
			var unpublished []string
			for _, w := range res.Warnings {
				if eco, ok := strings.CutSuffix(w, ": not published by any mirror"); ok {
					unpublished = append(unpublished, strings.TrimPrefix(eco, "osv/"))
					continue
				}
				e.log.Warn(w)
			}
			if len(unpublished) > 0 {
				e.log.Info("ecosystems not published by any mirror (skipped)", "ecosystems", strings.Join(unpublished, ", "))
			}
			if res.UpToDate {
				fmt.Fprintf(e.stderr, "vulnerability database is up to date (%s)\n", res.Path)
				return nil
			}
			total := 0
			for _, n := range res.Metadata.Counts {
				total += n
			}
			fmt.Fprintf(e.stderr, "vulnerability database built: %d advisories from %d sources (%d downloaded, %d unchanged) → %s\n",
				total, len(res.Metadata.Sources), res.Downloaded, res.NotModified, res.Path)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&sources, "source", nil, "mirror URL or directory, repeatable, tried in order (default: the public OSV bucket)")
	cmd.Flags().StringSliceVar(&ecosystems, "ecosystem", nil, "ecosystems to import (default: all distro and language ecosystems drydock matches)")
	cmd.Flags().StringVar(&dbPath, "db", "", "database file to write (default in the cache dir)")
	return cmd
}

func newDBStatusCmd(e *env) *cobra.Command {
	var dbPath string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show when the database was built, from which sources, and how many records it holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dbPath == "" {
				root, err := e.cacheRoot()
				if err != nil {
					return err
				}
				dbPath = dbPathIn(root)
			}
			meta, err := vulndb.Status(cmd.Context(), dbPath)
			if err != nil {
				return fmt.Errorf("no usable database at %s (run \"drydock db update\"): %w", dbPath, err)
			}
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "Path:\t%s\n", dbPath)
			fmt.Fprintf(w, "Schema:\t%d\n", meta.SchemaVersion)
			fmt.Fprintf(w, "Built at:\t%s (%s ago)\n", meta.BuiltAt.Format(time.RFC3339), time.Since(meta.BuiltAt).Round(time.Minute))
			fmt.Fprintln(w, "Sources:")
			for _, s := range meta.Sources {
				fmt.Fprintf(w, "  %s\t%d records\t%s\n", s.Name, s.Records, s.URL)
			}
			fmt.Fprintln(w, "Records by ecosystem:")
			ecos := make([]string, 0, len(meta.Counts))
			for k := range meta.Counts {
				ecos = append(ecos, k)
			}
			sort.Strings(ecos)
			for _, k := range ecos {
				fmt.Fprintf(w, "  %s\t%d\n", k, meta.Counts[k])
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", "", "database file (default in the cache dir)")
	return cmd
}
