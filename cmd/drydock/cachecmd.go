package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/cache"
)

// layerCache opens the per-layer cache under the cache root.
func (e *env) layerCache() (*cache.Cache, error) {
	root, err := e.cacheRoot()
	if err != nil {
		return nil, err
	}
	return cache.Open(filepath.Join(root, "layers"), cache.Options{Logger: e.log})
}

func newCacheCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Manage the per-layer result cache",
		Long: `drydock caches what it extracted from each layer, keyed by the layer's diffID and the
extractors' names and versions, so an image whose layers were seen before is scanned without
reading them again. The cache is safe for several scans at once and bounded in size (least
recently used entries are evicted).`,
	}
	var asJSON bool
	stats := &cobra.Command{
		Use:   "stats",
		Short: "Show the cache's location, entries and size",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.layerCache()
			if err != nil {
				return err
			}
			st, err := c.Stats(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			fmt.Fprintf(e.stdout, "Dir:     %s\nEntries: %d\nSize:    %s\n", st.Dir, st.Entries, humanize.IBytes(uint64(st.Bytes)))
			return nil
		},
	}
	stats.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	clean := &cobra.Command{
		Use:   "clean",
		Short: "Remove every cached layer result",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.layerCache()
			if err != nil {
				return err
			}
			if err := c.Clean(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "removed the layer cache in %s\n", c.Dir())
			return nil
		},
	}
	cmd.AddCommand(stats, clean)
	return cmd
}
