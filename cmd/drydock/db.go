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
	cmd.AddCommand(newDBUpdateCmd(e), newDBStatusCmd(e), newDBPushCmd(e), newDBPullCmd(e))
	return cmd
}

func newDBUpdateCmd(e *env) *cobra.Command {
	var (
		sources, ecosystems, nvd []string
		hashLists, baseTables    []string
		dbPath, alpineSecDB, kev string
	)
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download or refresh advisories and rebuild the database",
		Long: `Download OSV advisories (per-ecosystem all.zip archives), the Alpine secdb and the CISA KEV
catalog, and build the local database. Mirrors are tried in order; unchanged sources are not
downloaded again (ETag / Last-Modified). The new database is built beside the old one and swapped
in atomically: a failed update leaves the old database working. One update of a database runs at a
time; a second one waits for it.

A --source may be a URL or a local directory laid out like the public OSV bucket
(<source>/<Ecosystem>/all.zip), optionally with alpine-secdb/, cisa-kev/ and nvd/ folders (a URL
lists those in <source>/drydock-native.json). A native feed no --source carries is fetched from its
publisher: the Alpine secdb from ` + dbupdate.DefaultAlpineSecDB + ` (every branch its index lists)
and the KEV catalog from ` + dbupdate.DefaultKEV + `.
--alpine-secdb and --kev name other places ("none" turns the feed off). A feed that cannot be
fetched is a warning and is recorded in the database as missing, so scans report partial coverage.

NVD is not fetched by default (its full feed is several hundred MB): give NVD JSON files or feeds
with --nvd or in a mirror's nvd/ folder. Without it, findings take their severity from the
advisories themselves; Alpine secdb advisories carry none.

Tables of published base images (--base-images, or a mirror's base-images/*.json) ship with the database:
every scan using it attributes images to those bases (docs/base-images.md).

Known-bad file hashes (for the malware scanner, docs/malware.md) come from --malware-hashes or a
mirror's malware-hashes/ folder: SHA-256 digests one per line, or a CSV export with a SHA-256 column
(MalwareBazaar's full or recent dumps, URLhaus payloads). The EICAR test file needs no list.`,
		Example: `  drydock db update
  drydock db update --source ./mirror                 # air-gapped
  drydock db update --source https://mirror.example/osv --source https://osv-vulnerabilities.storage.googleapis.com
  drydock db update --kev ./known_exploited_vulnerabilities.json --nvd ./nvdcve-2.0-2025.json.gz
  drydock db update --malware-hashes ./full_sha256.txt --malware-hashes https://lists.example/bad.csv`,
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
				Mirrors:     sources,
				Ecosystems:  ecosystems,
				AlpineSecDB: alpineSecDB,
				KEV:         kev,
				Path:        dbPath,
				CacheDir:    filepath.Join(root, "downloads"),
				Logger:      e.log,
			}
			for _, n := range nvd {
				opt.Native = append(opt.Native, dbupdate.NativeSource{Kind: dbupdate.NativeNVD, URL: n})
			}
			for _, h := range hashLists {
				opt.Native = append(opt.Native, dbupdate.NativeSource{Kind: dbupdate.NativeMalwareHashes, URL: h})
			}
			for _, b := range baseTables {
				opt.Native = append(opt.Native, dbupdate.NativeSource{Kind: dbupdate.NativeBaseImages, URL: b})
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
			var missing []string
			for _, m := range res.Missing {
				if !strings.HasPrefix(m.Name, "osv/") {
					missing = append(missing, m.Name)
				}
			}
			if len(missing) > 0 {
				e.log.Warn("the database lacks these feeds: scans report partial coverage", "missing", strings.Join(missing, ", "))
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
			if res.Metadata.BaseImages > 0 {
				fmt.Fprintf(e.stderr, "published base-image tables: %d\n", res.Metadata.BaseImages)
			}
			if res.Metadata.Hashes > 0 {
				fmt.Fprintf(e.stderr, "known-bad file hashes: %d\n", res.Metadata.Hashes)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&sources, "source", nil, "mirror URL or directory, repeatable, tried in order (default: the public OSV bucket)")
	cmd.Flags().StringSliceVar(&ecosystems, "ecosystem", nil, "ecosystems to import (default: all distro and language ecosystems drydock matches)")
	cmd.Flags().StringVar(&alpineSecDB, "alpine-secdb", "", "Alpine secdb base URL or directory, or \"none\" (default: "+dbupdate.DefaultAlpineSecDB+" when no --source carries it)")
	cmd.Flags().StringVar(&kev, "kev", "", "CISA KEV catalog URL or file, or \"none\" (default: the CISA feed when no --source carries it)")
	cmd.Flags().StringArrayVar(&nvd, "nvd", nil, "NVD JSON file or URL (API 2.0 records or feeds, optionally gzipped), repeatable")
	cmd.Flags().StringArrayVar(&baseTables, "base-images", nil, "table of published base images shipped with the database (JSON records of diff_ids, manifest digest, tags; file or URL), repeatable: every scan with this database attributes images to them (docs/base-images.md)")
	cmd.Flags().StringArrayVar(&hashLists, "malware-hashes", nil, "hash list of known-bad files, file or URL (SHA-256 one per line, or a CSV export such as MalwareBazaar's), repeatable")
	cmd.Flags().StringVar(&dbPath, "db", "", "database file to write (default in the cache dir)")
	return cmd
}

func newDBStatusCmd(e *env) *cobra.Command {
	var dbPath string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show when the database was built, from which sources, and how many records it holds",
		Long: `Show when the database was built, from which sources, which feeds it lacks and how many
records it holds. The whole file is read first, as a scan would: a damaged database is an error,
not a status.`,
		Args: cobra.NoArgs,
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
			fmt.Fprintf(w, "Built at:\t%s (%s ago)\n", meta.BuiltAt.Format(time.RFC3339), vulndb.FormatAge(time.Since(meta.BuiltAt)))
			fmt.Fprintln(w, "Sources:")
			for _, s := range meta.Sources {
				fmt.Fprintf(w, "  %s\t%d records\t%s\n", s.Name, s.Records, s.URL)
			}
			if len(meta.Missing) > 0 {
				fmt.Fprintln(w, "Missing (not in this database: scans report partial coverage):")
				for _, m := range meta.Missing {
					where := m.URL
					if where != "" {
						where += ": "
					}
					fmt.Fprintf(w, "  %s\t%s%s\n", m.Name, where, m.Reason)
				}
			}
			if meta.Hashes > 0 {
				fmt.Fprintf(w, "Known-bad file hashes:\t%d\n", meta.Hashes)
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
