package vulndb

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.etcd.io/bbolt"
)

// BadFile is a known-bad file on a hash list: its SHA-256, the name the
// list gives it (a malware family, a signature; "" when the list names
// none) and the list ("malware-hashes/full_sha256.txt").
type BadFile struct {
	SHA256 string `json:"sha256"`
	Name   string `json:"name,omitempty"`
	List   string `json:"list"`
}

// HashReader looks file contents up on the hash lists of known-bad files a
// database holds. *DB implements it.
type HashReader interface {
	KnownBad(ctx context.Context, sha256 [32]byte) (BadFile, bool, error)
}

// HashListPrefix starts the SourceInfo.Name of every imported hash list.
const HashListPrefix = "malware-hashes/"

// HashListStats counts what a hash list held.
type HashListStats struct {
	Hashes     int // distinct SHA-256 hashes read
	Duplicates int // repeated hashes
	// Skipped are data lines without a SHA-256 hash (an MD5 or SHA-1
	// list, a malformed line): not imported.
	Skipped int
}

// maxHashListLine bounds one line of a hash list.
const maxHashListLine = 1 << 20

// sha256Columns and nameColumns are the CSV header names (lower case) of
// the hash and of the detection's name, in order of preference: the
// exports of MalwareBazaar ("sha256_hash", "signature"), URLhaus payloads
// ("sha256", "signature"), ThreatFox and generic lists.
// (Functions, not variables: no package-level mutable state.)
func sha256Columns() []string {
	return []string{"sha256", "sha256_hash", "sha256hash", "hash_sha256", "sha-256", "sha_256", "sha256sum", "file_sha256"}
}

func nameColumns() []string {
	return []string{"signature", "malware", "malware_family", "malware_printable", "family", "threat", "detection", "malware_name", "name"}
}

// ParseHashList reads a list of known-bad file hashes: SHA-256 hex digests
// one per line (blank lines and "#" comments skipped; "sha256sum" output,
// "<hex>  <name>", gives each its name), or a CSV export with a SHA-256
// column found by its header — a header line of its own or, as
// MalwareBazaar and URLhaus write it, in the last comment line before the
// data — and, if there is one, a name column (MalwareBazaar's
// "signature"). A CSV without a header takes the first field that is a
// SHA-256 digest. gzip input is decompressed. Lines without a SHA-256 hash
// are counted in Skipped; a list that yields none at all is an error.
// list names the list in the result (BadFile.List) and errors.
func ParseHashList(r io.Reader, list string) ([]BadFile, HashListStats, error) {
	var st HashListStats
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, st, fmt.Errorf("reading hash list %q: %w", list, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	var (
		out    []BadFile
		seen   = map[string]bool{}
		header []string // CSV header found in a comment line
		first  string   // the first data line
	)
	add := func(h, name string) {
		if seen[h] {
			st.Duplicates++
			return
		}
		seen[h] = true
		out = append(out, BadFile{SHA256: h, Name: cleanName(name), List: list})
	}
	// Comments and blank lines before the data; the last comment that is
	// a CSV header with a hash column is the header.
	for {
		line, err := readLine(br)
		if err != nil && err != io.EOF {
			return nil, st, fmt.Errorf("reading hash list %q: %w", list, err)
		}
		t := strings.TrimSpace(line)
		if c, ok := strings.CutPrefix(t, "#"); ok {
			if h := csvFields(strings.TrimSpace(c)); columnOf(h, sha256Columns()) >= 0 {
				header = h
			}
		} else if t != "" {
			first = t
			break
		}
		if err == io.EOF {
			break
		}
	}
	if first == "" {
		return nil, st, fmt.Errorf("hash list %q holds no SHA-256 hashes", list)
	}
	if h, name, ok := plainLine(first); ok && header == nil {
		add(h, name)
		for {
			line, err := readLine(br)
			if err != nil && err != io.EOF {
				return nil, st, fmt.Errorf("reading hash list %q: %w", list, err)
			}
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				if h, name, ok := plainLine(t); ok {
					add(h, name)
				} else {
					st.Skipped++
				}
			}
			if err == io.EOF {
				break
			}
		}
	} else {
		cr := csv.NewReader(io.MultiReader(strings.NewReader(first+"\n"), br))
		cr.Comment = '#'
		cr.FieldsPerRecord = -1
		cr.LazyQuotes = true
		cr.TrimLeadingSpace = true
		cr.ReuseRecord = true
		hashCol, nameCol := -1, -1
		if header != nil {
			hashCol, nameCol = columnOf(header, sha256Columns()), columnOf(header, nameColumns())
		}
		for rec := 0; ; rec++ {
			fields, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) && !errors.Is(err, bufio.ErrTooLong) {
					st.Skipped++
					continue
				}
				return nil, st, fmt.Errorf("reading hash list %q: %w", list, err)
			}
			if rec == 0 && header == nil && firstDigest(fields) < 0 {
				lower := lowerAll(fields)
				if c := columnOf(lower, sha256Columns()); c >= 0 {
					hashCol, nameCol = c, columnOf(lower, nameColumns())
					header = slices.Clone(fields)
					continue
				}
			}
			col := hashCol
			if col < 0 {
				col = firstDigest(fields)
			}
			if col < 0 || col >= len(fields) || !isSHA256(strings.TrimSpace(fields[col])) {
				st.Skipped++
				continue
			}
			name := ""
			if nameCol >= 0 && nameCol < len(fields) {
				name = fields[nameCol]
			}
			add(strings.ToLower(strings.TrimSpace(fields[col])), name)
		}
	}
	st.Hashes = len(out)
	if len(out) == 0 {
		return nil, st, fmt.Errorf("hash list %q holds no SHA-256 hashes (%d lines without one)", list, st.Skipped)
	}
	return out, st, nil
}

// readLine reads one line (without its end), refusing unreasonably long
// ones.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		b = append(b, chunk...)
		if len(b) > maxHashListLine {
			return "", fmt.Errorf("a line is longer than %d bytes", maxHashListLine)
		}
		if err != nil {
			return string(b), err
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

// plainLine parses "<sha256>" or "<sha256>  <name>" (sha256sum output; a
// "*" before the name marks binary mode).
func plainLine(s string) (hash, name string, ok bool) {
	h, rest, _ := strings.Cut(s, " ")
	if i := strings.IndexByte(h, '\t'); i >= 0 {
		h, rest = h[:i], h[i+1:]
	}
	if !isSHA256(h) {
		return "", "", false
	}
	return strings.ToLower(h), strings.TrimPrefix(strings.TrimSpace(rest), "*"), true
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func firstDigest(fields []string) int {
	return slices.IndexFunc(fields, func(f string) bool { return isSHA256(strings.TrimSpace(f)) })
}

// csvFields splits one CSV line; nil if it is not CSV.
func csvFields(line string) []string {
	cr := csv.NewReader(strings.NewReader(line))
	cr.LazyQuotes = true
	cr.TrimLeadingSpace = true
	f, err := cr.Read()
	if err != nil {
		return nil
	}
	return lowerAll(f)
}

func lowerAll(fs []string) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = strings.ToLower(strings.TrimSpace(f))
	}
	return out
}

// columnOf returns the index of the first of names found in header, in the
// order of names, or -1.
func columnOf(header, names []string) int {
	for _, n := range names {
		if i := slices.Index(header, n); i >= 0 {
			return i
		}
	}
	return -1
}

// cleanName drops the placeholders lists write for "no name".
func cleanName(s string) string {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "n/a", "na", "none", "null", "-", "unknown":
		return ""
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// storedHash is the value of hashes/<32-byte digest>.
type storedHash struct {
	List string `json:"l"`
	Name string `json:"n,omitempty"`
}

// addHash keeps the first list's entry for a hash, unless only a later
// list names the file.
func (b *Builder) addHash(f BadFile) error {
	raw, err := hex.DecodeString(f.SHA256)
	if err != nil || len(raw) != sha256.Size {
		return fmt.Errorf("hash list %q: invalid SHA-256 %q", f.List, f.SHA256)
	}
	k := string(raw)
	if old, ok := b.hashes[k]; ok && (old.Name != "" || f.Name == "") {
		return nil
	}
	b.hashes[k] = storedHash{List: f.List, Name: f.Name}
	return nil
}

// ImportHashList imports a list of known-bad file hashes (any form
// ParseHashList reads). The whole list is read before anything is added:
// a list that fails leaves the builder as it was. src.Name should start
// with HashListPrefix.
func (b *Builder) ImportHashList(r io.Reader, name string, src SourceInfo) (HashListStats, error) {
	files, st, err := ParseHashList(r, src.Name)
	if err != nil {
		return st, fmt.Errorf("importing %s: %w", name, err)
	}
	for _, f := range files {
		if err := b.addHash(f); err != nil {
			return st, err
		}
	}
	src.Records = st.Hashes
	b.AddSource(src)
	return st, nil
}

// KnownBad looks a file's SHA-256 up on the database's hash lists.
func (db *DB) KnownBad(ctx context.Context, sum [32]byte) (BadFile, bool, error) {
	if err := ctx.Err(); err != nil {
		return BadFile{}, false, err
	}
	var (
		f     BadFile
		found bool
	)
	err := db.view(func(tx *bbolt.Tx) error {
		bk := tx.Bucket([]byte(bucketHashes))
		if bk == nil {
			return nil
		}
		v := bk.Get(sum[:])
		if v == nil {
			return nil
		}
		var sh storedHash
		if err := json.Unmarshal(v, &sh); err != nil {
			return fmt.Errorf("hash %x: %w", sum, err)
		}
		f, found = BadFile{SHA256: hex.EncodeToString(sum[:]), Name: sh.Name, List: sh.List}, true
		return nil
	})
	if err != nil {
		return BadFile{}, false, err
	}
	return f, found, nil
}

// HashListsKey identifies the hash lists a database was built with (their
// names and digests), "" when it holds none: results that depend on them
// (a layer's known-bad files) are keyed by it.
func HashListsKey(meta Metadata) string {
	var parts []string
	for _, s := range meta.Sources {
		if strings.HasPrefix(s.Name, HashListPrefix) {
			parts = append(parts, s.Name+"@"+s.Digest+"#"+fmt.Sprint(s.Records))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	slices.Sort(parts)
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(sum[:8])
}

// checkHashes reads every entry of the hashes bucket (nil: none).
func checkHashes(bk *bbolt.Bucket, want int, tick func() error) error {
	n := 0
	if bk != nil {
		c := bk.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := tick(); err != nil {
				return err
			}
			if len(k) != sha256.Size || !json.Valid(v) || bytes.Equal(v, []byte("null")) {
				return fmt.Errorf("damaged: hash entry %x", k)
			}
			n++
		}
	}
	if n != want {
		return fmt.Errorf("damaged: the database holds %d known-bad file hashes, its metadata says %d", n, want)
	}
	return nil
}
