package npm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// maxLockEntries bounds the entries read from one package-lock.json (the
// "packages" map of v2/v3, or every node of the v1 "dependencies" tree);
// past it the rest is not read and a warning names the file. The largest
// real lockfiles (monorepos) hold a few tens of thousands.
const maxLockEntries = 50_000

// packageLock is package-lock.json / npm-shrinkwrap.json. Version 1 has only
// the nested "dependencies" tree; version 2 has both; version 3 only the flat
// "packages" map keyed by install path ("node_modules/a/node_modules/b").
// It is read entry by entry (see readPackageLock); only these fields are
// kept.
type packageLock struct {
	Packages     map[string]lockEntry
	Dependencies map[string]lockDependency
}

// lockPackage is one entry of "packages", as decoded.
type lockPackage struct {
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	Dev      bool            `json:"dev"`
	Optional bool            `json:"optional"`
	Link     bool            `json:"link"`
	License  json.RawMessage `json:"license"`
}

// lockEntry is what is kept of a lockPackage.
type lockEntry struct {
	Name, Version       string
	Licenses            []string
	Dev, Optional, Link bool
}

type lockDependency struct {
	Version      string                    `json:"version"`
	Dev          bool                      `json:"dev"`
	Optional     bool                      `json:"optional"`
	Dependencies map[string]lockDependency `json:"dependencies"`
}

// parsePackageLock reads an npm lockfile. The root project (the "" key of
// "packages" in lockfile v2 and v3: the project itself, not a dependency;
// its package.json is read on its own) and links to local directories are
// skipped. Entries without a version, or without a valid name, are skipped
// and reported.
func (e *Extractor) parsePackageLock(open opener, in *extract.Input) ([]inventory.Package, error) {
	lock, jerr, cut := readPackageLock(open)
	if jerr != nil && !jsonPartial(jerr) {
		return nil, jerr
	}
	d := newDeclared(e, in)
	missing := 0
	if len(lock.Packages) > 0 {
		for _, key := range sortedKeys(lock.Packages) {
			if key == "" {
				continue
			}
			p := lock.Packages[key]
			if p.Link {
				continue
			}
			name := p.Name
			i := strings.LastIndex(key, "node_modules/")
			if name == "" && i >= 0 {
				name = key[i+len("node_modules/"):]
			}
			if i < 0 && (name == "" || p.Version == "") {
				// Workspace members ("packages/a") may lack a name or
				// version; installed dependencies may not.
				continue
			}
			if p.Version == "" {
				missing++
				continue
			}
			d.add(name, p.Version, p.Licenses, p.Dev, p.Optional)
		}
	} else {
		missing = walkDependencies(d, lock.Dependencies)
	}
	return d.pkgs, errors.Join(jerr, missingError(missing), d.nameError(), cut)
}

// readPackageLock decodes the fields of a lockfile that parsePackageLock
// uses, one entry of "packages" or one top-level entry of "dependencies" at
// a time, so that memory follows the entries kept, not the document. Its
// errors are those json.Unmarshal would return: a syntax error (and
// nothing), or the first type error with the rest decoded. cut is non-nil
// when it stopped after maxLockEntries.
func readPackageLock(open opener) (lock packageLock, jerr, cut error) {
	// The file is read twice, streamed, never held whole: first to check
	// its syntax (Unmarshal checks the whole document before decoding
	// anything: its syntax error, and nothing decoded), then to decode it.
	if err := checkSyntax(open); err != nil {
		return lock, err, nil
	}
	rc, err := open()
	if err != nil {
		return lock, err, nil
	}
	defer rc.Close()
	r := &lockReader{dec: json.NewDecoder(rc)}
	r.read(&lock)
	if r.cut {
		cut = fmt.Errorf("stopped after %d entries, the limit for one file: the rest is not read", maxLockEntries)
	}
	return lock, r.err, cut
}

// sizeOf counts the bytes of the file, up to smallDoc+1.
func sizeOf(open opener) (int64, error) {
	rc, err := open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return io.Copy(io.Discard, io.LimitReader(rc, smallDoc+1))
}

// opener opens a fresh reader of a file (extract.File's Open).
type opener func() (io.ReadCloser, error)

// bytesOpener opens data.
func bytesOpener(data []byte) opener {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
}

// smallDoc is the size up to which checkSyntax reports a syntax error in
// json.Unmarshal's words (it reads the document whole to get them).
const smallDoc = 1 << 20

// checkSyntax reports whether the file holds exactly one JSON value (and
// white space), streamed (validJSON): memory does not follow the document. Its error is json.Unmarshal's for documents up to smallDoc bytes,
// the decoder's for larger ones.
func checkSyntax(open opener) error {
	rc, err := open()
	if err != nil {
		return err
	}
	defer rc.Close()
	serr := validJSON(rc)
	if serr == nil {
		return nil
	}
	if size, err := sizeOf(open); err == nil && size <= smallDoc {
		small, err := open()
		if err != nil {
			return err
		}
		defer small.Close()
		data, err := io.ReadAll(io.LimitReader(small, smallDoc+1))
		if err == nil && len(data) <= smallDoc {
			var v struct{}
			if err := json.Unmarshal(data, &v); err != nil {
				return err
			}
		}
	}
	return serr
}

// lockReader walks a document json.Valid accepted; err is the first type
// error.
type lockReader struct {
	dec     *json.Decoder
	err     error
	entries int
	cut     bool
}

func (r *lockReader) typeErr(err error) {
	if r.err == nil {
		r.err = err
	}
}

// token returns the next token; the document is valid, so errors cannot
// happen but end the walk all the same.
func (r *lockReader) token() (json.Token, bool) {
	t, err := r.dec.Token()
	if err != nil {
		r.typeErr(err)
		return nil, false
	}
	return t, true
}

// skipRest skips the rest of a value whose opening delimiter was read.
func (r *lockReader) skipRest() bool {
	for depth := 1; depth > 0; {
		t, ok := r.token()
		if !ok {
			return false
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return true
}

// skip skips the value that begins with t.
func (r *lockReader) skip(t json.Token) bool {
	if d, ok := t.(json.Delim); ok && (d == '{' || d == '[') {
		return r.skipRest()
	}
	return true
}

// kindOf names a value's JSON kind as UnmarshalTypeError does.
func kindOf(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		if v == '[' {
			return "array"
		}
		return "object"
	case bool:
		return "bool"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	}
	return "null"
}

func (r *lockReader) read(lock *packageLock) {
	t, ok := r.token()
	if !ok {
		return
	}
	if t != json.Delim('{') {
		if t != nil {
			r.typeErr(&json.UnmarshalTypeError{Value: kindOf(t), Type: reflect.TypeOf(packageLock{}), Offset: r.dec.InputOffset()})
		}
		return
	}
	for r.dec.More() && !r.cut {
		t, ok := r.token()
		if !ok {
			return
		}
		key, _ := t.(string)
		if t, ok = r.token(); !ok {
			return
		}
		switch key {
		case "packages":
			if !r.object(t, "packages", reflect.TypeOf(map[string]lockPackage{})) {
				continue
			}
			if lock.Packages == nil {
				lock.Packages = map[string]lockEntry{}
			}
			r.packages(lock.Packages)
			if len(lock.Packages) > 0 {
				// Nothing else is used: lockfile v2 repeats the tree in
				// "dependencies". Drop any read before, read no more.
				lock.Dependencies = nil
				return
			}
		case "dependencies":
			if !r.object(t, "dependencies", reflect.TypeOf(map[string]lockDependency{})) {
				continue
			}
			if len(lock.Packages) > 0 {
				r.skipRest()
				continue
			}
			if lock.Dependencies == nil {
				lock.Dependencies = map[string]lockDependency{}
			}
			r.dependencies(lock.Dependencies)
		default:
			r.skip(t)
		}
	}
}

// object reports whether t opens an object; for another kind of value it
// skips it, recording a type error unless it is null.
func (r *lockReader) object(t json.Token, field string, typ reflect.Type) bool {
	if t == json.Delim('{') {
		return true
	}
	if t != nil {
		r.typeErr(&json.UnmarshalTypeError{Value: kindOf(t), Type: typ, Offset: r.dec.InputOffset(), Struct: "packageLock", Field: field})
	}
	r.skip(t)
	return false
}

// prefixField gives a type error the path json.Unmarshal of the whole
// document would have given it.
func prefixField(err error, prefix string) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			te.Field = prefix
		} else {
			te.Field = prefix + "." + te.Field
		}
	}
	return err
}

// packages reads the entries of "packages" after its '{'.
func (r *lockReader) packages(m map[string]lockEntry) {
	for r.dec.More() {
		t, ok := r.token()
		if !ok {
			return
		}
		key, _ := t.(string)
		if key != "" { // the project itself is not counted
			if r.entries >= maxLockEntries {
				r.cut = true
				return
			}
			r.entries++
		}
		var p lockPackage
		if err := r.dec.Decode(&p); err != nil {
			r.typeErr(prefixField(err, "packages"))
		}
		m[key] = lockEntry{Name: p.Name, Version: p.Version, Licenses: parseLicenses(p.License), Dev: p.Dev, Optional: p.Optional, Link: p.Link}
	}
	r.token() // '}'
}

// dependencies reads the top-level entries of "dependencies" after its '{'.
func (r *lockReader) dependencies(m map[string]lockDependency) {
	for r.dec.More() {
		t, ok := r.token()
		if !ok {
			return
		}
		if r.entries >= maxLockEntries {
			r.cut = true
			return
		}
		key, _ := t.(string)
		var dep lockDependency
		if err := r.dec.Decode(&dep); err != nil {
			r.typeErr(prefixField(err, "dependencies"))
		}
		n := countDependencies(dep.Dependencies) + 1
		if r.entries+n > maxLockEntries {
			// Keep the subtree's first entries, depth first as they are
			// walked, up to the limit.
			dep.Dependencies = trimDependencies(dep.Dependencies, maxLockEntries-r.entries-1)
			m[key] = dep
			r.entries = maxLockEntries
			r.cut = true
			return
		}
		r.entries += n
		m[key] = dep
	}
	r.token() // '}'
}

func countDependencies(deps map[string]lockDependency) int {
	n := 0
	for _, d := range deps {
		n += 1 + countDependencies(d.Dependencies)
	}
	return n
}

// trimDependencies keeps the first budget nodes of a tree in walk order.
func trimDependencies(deps map[string]lockDependency, budget int) map[string]lockDependency {
	var walk func(map[string]lockDependency) map[string]lockDependency
	walk = func(deps map[string]lockDependency) map[string]lockDependency {
		if len(deps) == 0 || budget <= 0 {
			return nil
		}
		out := map[string]lockDependency{}
		for _, name := range sortedKeys(deps) {
			if budget <= 0 {
				break
			}
			budget--
			d := deps[name]
			d.Dependencies = walk(d.Dependencies)
			out[name] = d
		}
		return out
	}
	return walk(deps)
}

// walkDependencies adds a lockfile v1 dependency tree and returns the number
// of entries without a version.
func walkDependencies(d *declared, deps map[string]lockDependency) int {
	missing := 0
	for _, name := range sortedKeys(deps) {
		dep := deps[name]
		version := dep.Version
		switch {
		case version == "":
			missing++
		case strings.HasPrefix(version, "file:"):
			// A local directory or tarball, not a registry package.
		case strings.HasPrefix(version, "npm:"):
			// An alias: "npm:real-name@1.2.3".
			if n, v, ok := splitNameVersion(version[len("npm:"):]); ok && v != "" {
				d.add(n, v, nil, dep.Dev, dep.Optional)
			} else {
				missing++
			}
		default:
			d.add(name, version, nil, dep.Dev, dep.Optional)
		}
		missing += walkDependencies(d, dep.Dependencies)
	}
	return missing
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
