package dpkg

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// docDir holds each package's copyright file: /usr/share/doc/<package>/copyright
// (Debian Policy 12.5).
const docDir = "/usr/share/doc/"

const (
	// maxCopyright bounds the copyright files captured: the largest in
	// Debian (texlive, firmware bundles) are around 1 MiB; the file is
	// read line by line, so the bound is on what the walker holds.
	maxCopyright = 4 << 20
	// maxCopyrightLicences bounds the licence names kept from one file.
	maxCopyrightLicences = 200
)

// wantsCopyright reports whether p is /usr/share/doc/<package>/copyright.
func wantsCopyright(p string, size int64) bool {
	rest, ok := strings.CutPrefix(p, docDir)
	if !ok || size > maxCopyright {
		return false
	}
	pkg, file, ok := strings.Cut(rest, "/")
	return ok && pkg != "" && file == "copyright"
}

// parseCopyright reads a copyright file. A machine-readable one (DEP-5,
// https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/) gives
// a pseudo-package: Name from the directory, Metadata {"kind": "copyright"},
// Licenses = the License short names of the header and Files paragraphs, in
// order, without repeats; inventory.Merge copies them to the dpkg package of
// that name and drops it. A file in free form gives nothing: its licence is
// unknown, not guessed from prose.
func parseCopyright(ctx context.Context, file string, r io.Reader) ([]inventory.Package, error) {
	name := path.Base(path.Dir(file))
	var (
		licences    []string
		seen        = map[string]bool{}
		para        int // index of the current paragraph
		inPara      bool
		isFiles     bool
		paraLicence string
		machine     bool
		errs        extract.Errors
	)
	endPara := func() {
		if inPara && paraLicence != "" && (para == 0 || isFiles) && !seen[paraLicence] {
			seen[paraLicence] = true
			if len(licences) < maxCopyrightLicences {
				licences = append(licences, paraLicence)
			}
		}
		if inPara {
			para++
		}
		inPara, isFiles, paraLicence = false, false, ""
	}
	lr := extract.NewLineReader(ctx, r, maxLine)
	for lr.Next() {
		line := lr.Line()
		if isBlank(line.Text) {
			endPara()
			if para > 0 && !machine {
				// The header paragraph had no Format field.
				return nil, nil
			}
			continue
		}
		inPara = true
		if line.Text[0] == ' ' || line.Text[0] == '\t' || line.Text[0] == '#' {
			continue
		}
		key, value, ok := strings.Cut(line.Text, ":")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			if !machine {
				// Free-form prose: not machine-readable.
				return nil, nil
			}
			errs.Add(fmt.Errorf("line %d: not a \"Field: value\" line: %q", line.N, truncate(line.Text)))
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(key) {
		case "format", "format-specification":
			v := strings.ToLower(value)
			if para == 0 && (strings.Contains(v, "copyright-format") || strings.Contains(v, "dep5") || strings.Contains(v, "dep-5")) {
				machine = true
			}
		case "files":
			isFiles = true
		case "license":
			paraLicence = value
		}
	}
	endPara()
	stop := lr.Err()
	if !machine || len(licences) == 0 {
		return nil, errs.Join(stop)
	}
	return []inventory.Package{{
		Name:      name,
		Ecosystem: inventory.EcoDpkg,
		Licenses:  licences,
		Metadata:  map[string]string{inventory.MetaKind: inventory.KindCopyright},
	}}, errs.Join(stop)
}
