package cache

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// An entry's payload (before compression) is a stream of JSON values, so
// that neither Put nor Get holds a large layer result encoded in memory
// (200,000 package.json files are ~100 MB of JSON):
//
//  1. a head: the result without its files and path hashes, the number of
//     files, and the path hashes;
//  2. for each file, in order: the file without its packages and the number
//     of its packages, then each package with its file list.
//
// Package.Files is not marshalled (json:"-") but Merge needs it (dpkg file
// lists, ownership), so it is carried beside its package. PathHashes (one
// per regular file: tens of thousands for a large layer) are stored as
// little-endian bytes, which JSON carries as base64: a third of the size of
// decimal numbers, and decoded without parsing each one.
type head struct {
	Result     *inventory.LayerResult `json:"result"`
	Files      int                    `json:"files"`
	PathHashes []byte                 `json:"path_hashes_le,omitempty"`
}

type fileValue struct {
	File     *inventory.FileResult `json:"file"`
	Packages int                   `json:"packages,omitempty"`
}

type packageValue struct {
	Package *inventory.Package `json:"package"`
	// Files is a pointer so that an empty list and no list stay apart.
	Files *[]string `json:"files,omitempty"`
}

// preallocMax bounds what a decoder allocates ahead from the counts a
// payload claims.
const preallocMax = 1024

// encodeResult writes r's payload to w, one value at a time.
func encodeResult(w io.Writer, r *inventory.LayerResult) error {
	enc := json.NewEncoder(w)
	res := *r // shallow copy: r is not changed
	res.Files, res.PathHashes = nil, nil
	h := head{Result: &res, Files: len(r.Files)}
	if len(r.PathHashes) > 0 {
		h.PathHashes = make([]byte, 8*len(r.PathHashes))
		for i, v := range r.PathHashes {
			binary.LittleEndian.PutUint64(h.PathHashes[8*i:], v)
		}
	}
	if err := enc.Encode(&h); err != nil {
		return err
	}
	// One value of each kind, reused: the encoder allocates nothing per
	// package.
	var (
		f  inventory.FileResult
		fv = fileValue{File: &f}
		pv packageValue
	)
	for fi := range r.Files {
		f = r.Files[fi]
		pkgs := f.Packages
		f.Packages = nil
		fv.Packages = len(pkgs)
		if err := enc.Encode(&fv); err != nil {
			return err
		}
		for pi := range pkgs {
			pv.Package, pv.Files = &pkgs[pi], nil
			if pkgs[pi].Files != nil {
				pv.Files = &pkgs[pi].Files
			}
			if err := enc.Encode(&pv); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeResult reads a payload written by encodeResult. The counts it
// claims are checked against the values that follow, and nothing may
// follow the last one.
func decodeResult(r io.Reader) (*inventory.LayerResult, error) {
	dec := json.NewDecoder(r)
	var h head
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("decoding JSON head: %w", err)
	}
	res := h.Result
	switch {
	case res == nil:
		return nil, errors.New("decoding JSON: no result")
	case h.Files < 0:
		return nil, fmt.Errorf("decoding JSON: %d files", h.Files)
	case len(res.Files) > 0:
		return nil, errors.New("decoding JSON: files in the head")
	case len(h.PathHashes) > 0 && len(res.PathHashes) > 0:
		return nil, errors.New("decoding JSON: path hashes stored twice")
	case len(h.PathHashes)%8 != 0:
		return nil, fmt.Errorf("decoding JSON: path hashes of %d bytes, not a multiple of 8", len(h.PathHashes))
	}
	if len(h.PathHashes) > 0 {
		res.PathHashes = make([]uint64, len(h.PathHashes)/8)
		for i := range res.PathHashes {
			res.PathHashes[i] = binary.LittleEndian.Uint64(h.PathHashes[8*i:])
		}
	}
	if h.Files > 0 {
		res.Files = make([]inventory.FileResult, 0, min(h.Files, preallocMax))
	}
	for fi := range h.Files {
		var fv fileValue
		if err := dec.Decode(&fv); err != nil {
			return nil, fmt.Errorf("decoding JSON: file %d of %d: %w", fi, h.Files, err)
		}
		switch {
		case fv.File == nil:
			return nil, fmt.Errorf("decoding JSON: file %d of %d is missing", fi, h.Files)
		case fv.Packages < 0:
			return nil, fmt.Errorf("decoding JSON: file %d claims %d packages", fi, fv.Packages)
		case len(fv.File.Packages) > 0:
			return nil, fmt.Errorf("decoding JSON: file %d holds its packages inline", fi)
		}
		f := *fv.File
		if fv.Packages > 0 {
			f.Packages = make([]inventory.Package, 0, min(fv.Packages, preallocMax))
		}
		for pi := range fv.Packages {
			var pv packageValue
			if err := dec.Decode(&pv); err != nil {
				return nil, fmt.Errorf("decoding JSON: package %d of %d of file %d: %w", pi, fv.Packages, fi, err)
			}
			if pv.Package == nil {
				return nil, fmt.Errorf("decoding JSON: package %d of file %d is missing", pi, fi)
			}
			p := *pv.Package
			if pv.Files != nil {
				p.Files = *pv.Files
			}
			f.Packages = append(f.Packages, p)
		}
		res.Files = append(res.Files, f)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("decoding JSON: data after the last value")
	}
	return res, nil
}

// maxReader reads at most left bytes, then fails: a payload that inflates
// past maxDecoded is refused, not read on.
type maxReader struct {
	r    io.Reader
	left int64
}

func (m *maxReader) Read(b []byte) (int, error) {
	if m.left <= 0 {
		return 0, fmt.Errorf("payload inflates to more than %d bytes", int64(maxDecoded))
	}
	if int64(len(b)) > m.left {
		b = b[:m.left]
	}
	n, err := m.r.Read(b)
	m.left -= int64(n)
	return n, err
}
