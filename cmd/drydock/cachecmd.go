package main

import (
	"encoding/json"
	"fmt"
	"os"
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
	opt := cache.Options{Logger: e.log}
	if s := os.Getenv("DRYDOCK_CACHE_MAX_SIZE"); s != "" {
		n, err := humanize.ParseBytes(s)
		if err != nil {
			return nil, fmt.Errorf("DRYDOCK_CACHE_MAX_SIZE: %w", err)
		}
		opt.MaxBytes = int64(n)
	}
	return cache.Open(filepath.Join(root, "layers"), opt)
}

func newCacheCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Manage the per-layer result cache",
		Long: `drydock caches what it extracted from each layer, keyed by the layer's diffID and the
extractors' names and versions, so an image whose layers were seen before is scanned without
reading them again. The cache is safe for several scans at once and bounded in size (least
recently used entries are evicted; DRYDOCK_CACHE_MAX_SIZE sets the bound, default 2GiB).`,
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
	var maxSize string
	prune := &cobra.Command{
		Use:   "prune",
		Short: "Evict the least recently used layer results until the cache fits --max-size",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := humanize.ParseBytes(maxSize)
			if err != nil {
				return usageErr("--max-size: %v", err)
			}
			c, err := e.layerCache()
			if err != nil {
				return err
			}
			removed, err := c.Prune(cmd.Context(), int64(n))
			if err != nil {
				return err
			}
			st, err := c.Stats(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "removed %d entries; %d left, %s\n", removed, st.Entries, humanize.IBytes(uint64(st.Bytes)))
			return nil
		},
	}
	prune.Flags().StringVar(&maxSize, "max-size", "1GiB", "size to prune down to")
	cmd.AddCommand(stats, clean, prune)
	return cmd
}
