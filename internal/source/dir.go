package source

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// openDir describes an unpacked root filesystem as one synthetic layer whose
// stream is a tar produced on the fly from a walk of the directory.
func openDir(ctx context.Context, p string) (*Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("opening directory %q: %w", p, err)
	}
	root, err := filepath.Abs(p)
	if err != nil {
		return nil, fmt.Errorf("resolving %q: %w", p, err)
	}
	// The root itself may be a symlink to the rootfs; nothing below it is
	// followed.
	root, err = filepath.EvalSymlinks(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missingPath(p, err)
	}
	if err != nil {
		return nil, fmt.Errorf("opening directory %q: %w", p, err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("opening directory %q: %w", p, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("opening directory %q: not a directory", p)
	}
	l := &Layer{
		Layer: inventory.Layer{Index: 0},
		open: func(ctx context.Context) (io.ReadCloser, error) {
			pr, pw := io.Pipe()
			go func() {
				pw.CloseWithError(tarDir(ctx, root, pw))
			}()
			return pr, nil
		},
	}
	return &Image{Name: p, Layers: []*Layer{l}}, nil
}

// tarDir writes the tree under root to w as a tar, in lexical order. Symlinks
// are written as symlinks and never followed; only directories, regular files
// and symlinks are written. Entries that cannot be read (permissions) are
// left out rather than failing the whole scan.
func tarDir(ctx context.Context, root string, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if p == root {
				return err
			}
			// Unreadable directory: skip it.
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		name := filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return nil // vanished meanwhile
		}
		switch {
		case fi.Mode().IsDir():
			hdr, err := tar.FileInfoHeader(fi, "")
			if err != nil {
				return err
			}
			hdr.Name = name + "/"
			return tw.WriteHeader(hdr)
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return nil
			}
			hdr, err := tar.FileInfoHeader(fi, target)
			if err != nil {
				return err
			}
			hdr.Name = name
			return tw.WriteHeader(hdr)
		case fi.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return nil // unreadable: skip
			}
			defer f.Close()
			hdr, err := tar.FileInfoHeader(fi, "")
			if err != nil {
				return err
			}
			hdr.Name = name
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			n, err := io.Copy(tw, io.LimitReader(f, hdr.Size))
			if err != nil {
				return fmt.Errorf("reading %q: %w", p, err)
			}
			if n != hdr.Size {
				return fmt.Errorf("reading %q: file shrank from %d to %d bytes while being read", p, hdr.Size, n)
			}
			return nil
		}
		return nil // devices, fifos, sockets
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
