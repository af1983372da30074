// Package python finds installed Python distributions from their core
// metadata: wheel-style "*.dist-info/METADATA", setuptools "*.egg-info/PKG-INFO"
// (or a "*.egg-info" file holding the same content, as distutils and Debian
// write it) and zipped "*.egg" archives ("EGG-INFO/PKG-INFO" inside).
//
// The metadata is a block of RFC 822 style headers; only the header block is
// read. Package names are normalised per PEP 503 (the form OSV uses for PyPI),
// and the name as written is kept in Metadata["name"].
package python

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/textproto"
	"path"
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

const (
	// maxMetadataSize caps METADATA / PKG-INFO files.
	maxMetadataSize = 10 << 20
	// maxEggSize caps zipped .egg archives.
	maxEggSize = 50 << 20
)

// Extractor reads Python distribution metadata.
type Extractor struct{}

// New returns a Python metadata extractor.
func New() *Extractor { return &Extractor{} }

// Name implements extract.Extractor.
func (*Extractor) Name() string { return "lang/python" }

// Version implements extract.Extractor.
func (*Extractor) Version() int { return 1 }

// kind is the layout a wanted file has.
type kind int

const (
	kindNone     kind = iota
	kindMetadata      // METADATA / PKG-INFO / .egg-info file: headers directly
	kindEgg           // zipped .egg
)

func classify(p string) kind {
	base := path.Base(p)
	dir := path.Base(path.Dir(p))
	switch {
	case base == "METADATA" && strings.HasSuffix(dir, ".dist-info"):
		return kindMetadata
	case base == "PKG-INFO" && strings.HasSuffix(dir, ".egg-info"):
		return kindMetadata
	case base == "PKG-INFO" && dir == "EGG-INFO" && strings.HasSuffix(path.Base(path.Dir(path.Dir(p))), ".egg"):
		// An unzipped egg directory: foo-1.0-py3.11.egg/EGG-INFO/PKG-INFO.
		return kindMetadata
	case strings.HasSuffix(base, ".egg-info") && len(base) > len(".egg-info"):
		return kindMetadata
	case strings.HasSuffix(base, ".egg") && len(base) > len(".egg"):
		return kindEgg
	}
	return kindNone
}

// Wants implements extract.Extractor.
func (*Extractor) Wants(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() || size < 0 {
		return false
	}
	switch classify(p) {
	case kindMetadata:
		return size <= maxMetadataSize
	case kindEgg:
		return size <= maxEggSize
	}
	return false
}

// Extract implements extract.Extractor.
func (e *Extractor) Extract(ctx context.Context, in *extract.Input) (inventory.Inventory, error) {
	if err := ctx.Err(); err != nil {
		return inventory.Inventory{}, err
	}
	k := classify(in.Path)
	if k != kindMetadata && k != kindEgg {
		return inventory.Inventory{}, fmt.Errorf("python metadata %q: %w", in.Path, extract.ErrNotApplicable)
	}
	if reached, err := extract.PackageLimitReached(in); reached {
		// The scan's package limit is reached: the file is not read; the
		// first such file of a layer says so.
		if err != nil {
			return inventory.Inventory{}, fmt.Errorf("reading python metadata %q: %w", in.Path, err)
		}
		return inventory.Inventory{}, nil
	}
	var (
		data []byte
		err  error
	)
	switch k {
	case kindMetadata:
		data, err = extract.ReadAll(in.File, maxMetadataSize)
	case kindEgg:
		data, err = readEgg(in.File)
	default:
		return inventory.Inventory{}, fmt.Errorf("python metadata %q: %w", in.Path, extract.ErrNotApplicable)
	}
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("reading python metadata %q: %w", in.Path, err)
	}
	pkg, perr := e.parse(data, in)
	var inv inventory.Inventory
	if pkg != nil {
		var cut error
		inv.Packages, cut = extract.LimitPackages(in, []inventory.Package{*pkg})
		perr = errors.Join(perr, cut)
	}
	if perr != nil {
		return inv, fmt.Errorf("parsing python metadata %q: %w", in.Path, perr)
	}
	return inv, nil
}

// parse turns a metadata header block into a package. A header error after
// Name and Version were read still yields the package, with the error.
func (e *Extractor) parse(data []byte, in *extract.Input) (*inventory.Package, error) {
	h, herr := parseHeaders(data)
	name := h.Get("Name")
	version := h.Get("Version")
	if name == "" || version == "" {
		if herr != nil {
			return nil, herr
		}
		if name == "" {
			return nil, errors.New("no Name header")
		}
		return nil, fmt.Errorf("no Version header for %q", name)
	}
	norm := Normalize(name)
	pkg := &inventory.Package{
		Name:      norm,
		Version:   version,
		Ecosystem: inventory.EcoPyPI,
		PURL:      packageurl.NewPackageURL(packageurl.TypePyPi, "", norm, version, nil, "").ToString(),
		Licenses:  licenses(h),
		Locations: []inventory.Location{{Path: in.Path, LayerDiffID: in.Layer.DiffID}},
		FoundBy:   e.Name(),
		Metadata:  map[string]string{"name": name},
	}
	return pkg, herr
}

// parseHeaders reads the RFC 822 header block up to the first blank line.
// It returns what it could read together with any error.
func parseHeaders(data []byte) (textproto.MIMEHeader, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return textproto.MIMEHeader{}, errors.New("empty metadata")
	}
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	h, err := r.ReadMIMEHeader()
	if h == nil {
		h = textproto.MIMEHeader{}
	}
	// A file that ends right after the last header (no body) is complete.
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return h, err
}

// maxLicenseName is the longest License header taken as a licence name.
const maxLicenseName = 100

var pep503 = regexp.MustCompile(`[-_.]+`)

// Normalize returns the PEP 503 normalised form of a distribution name:
// lower case, with runs of "-", "_" and "." replaced by a single "-".
func Normalize(name string) string {
	return strings.ToLower(pep503.ReplaceAllString(strings.TrimSpace(name), "-"))
}

// licenses picks the licence in the order PEP 639 gives it precedence:
// License-Expression, then a short License field (longer ones hold the
// licence text, not its name), then the trove classifiers "License :: …".
func licenses(h textproto.MIMEHeader) []string {
	if v := h.Get("License-Expression"); v != "" {
		return []string{v}
	}
	if v := strings.TrimSpace(h.Get("License")); v != "" && !strings.EqualFold(v, "UNKNOWN") &&
		len(v) <= maxLicenseName {
		return []string{v}
	}
	var out []string
	for _, c := range h.Values("Classifier") {
		parts := strings.Split(c, "::")
		if len(parts) < 2 || strings.TrimSpace(parts[0]) != "License" {
			continue
		}
		last := strings.TrimSpace(parts[len(parts)-1])
		// "License :: OSI Approved" alone names no licence.
		if (len(parts) == 2 && last == "OSI Approved") || last == "" {
			continue
		}
		out = append(out, last)
	}
	return out
}

// readEgg returns EGG-INFO/PKG-INFO from a zipped egg.
func readEgg(f extract.File) ([]byte, error) {
	if f.Size() > maxEggSize {
		return nil, fmt.Errorf("egg is %d bytes, over the %d byte limit", f.Size(), maxEggSize)
	}
	zr, err := zip.NewReader(f, f.Size())
	if err != nil {
		return nil, fmt.Errorf("opening egg zip: %w", err)
	}
	for _, zf := range zr.File {
		if zf.Name != "EGG-INFO/PKG-INFO" {
			continue
		}
		if zf.UncompressedSize64 > maxMetadataSize {
			return nil, fmt.Errorf("EGG-INFO/PKG-INFO is %d bytes, over the %d byte limit", zf.UncompressedSize64, maxMetadataSize)
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("opening EGG-INFO/PKG-INFO: %w", err)
		}
		defer rc.Close()
		data, err := io.ReadAll(io.LimitReader(rc, maxMetadataSize+1))
		if err != nil {
			return nil, fmt.Errorf("reading EGG-INFO/PKG-INFO: %w", err)
		}
		if len(data) > maxMetadataSize {
			return nil, fmt.Errorf("EGG-INFO/PKG-INFO is over the %d byte limit", maxMetadataSize)
		}
		return data, nil
	}
	return nil, errors.New("no EGG-INFO/PKG-INFO in egg")
}
