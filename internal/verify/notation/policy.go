package notation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
)

// maxPolicySize caps the trust policy file: a policy is a few kilobytes.
const maxPolicySize = 1 << 20

// parsePolicy decodes and validates an OCI trust policy document (version
// 1.0, the document `notation policy import` takes). Unknown fields are
// an error: a misspelt "trustedIdentities" must not silently trust anyone.
func parsePolicy(data []byte) (*trustpolicy.Document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc trustpolicy.Document
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding the trust policy JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decoding the trust policy JSON: data after the document")
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("validating the trust policy: %w", err)
	}
	return &doc, nil
}

// readPolicy reads and parses the trust policy file.
func readPolicy(file string) (*trustpolicy.Document, error) {
	info, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("reading the Notation trust policy %s: %w", file, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("reading the Notation trust policy %s: not a regular file", file)
	}
	if info.Size() > maxPolicySize {
		return nil, fmt.Errorf("reading the Notation trust policy %s: %d bytes, more than the %d allowed", file, info.Size(), maxPolicySize)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the Notation trust policy %s: %w", file, err)
	}
	doc, err := parsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("Notation trust policy %s: %w", file, err)
	}
	return doc, nil
}

// storeFS roots notation-go's trust store paths ("truststore/x509/<type>/<name>")
// at a directory that holds x509/ directly, the layout of Notation's own
// configuration directory below its "truststore" folder.
type storeFS struct {
	root string
}

// Open is fs.FS's Open; notation-go's X509 trust store reads through
// SysPath, not Open, but the interface needs it.
func (s storeFS) Open(name string) (fs.File, error) {
	p, err := s.SysPath(name)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// SysPath maps "truststore/x509/ca/name" to ROOT/x509/ca/name.
func (s storeFS) SysPath(items ...string) (string, error) {
	rel := path.Join(items...)
	rel = strings.TrimPrefix(rel, dir.TrustStoreDir+"/")
	if rel == dir.TrustStoreDir {
		rel = "."
	}
	return filepath.Join(s.root, filepath.FromSlash(rel)), nil
}

// openTrustStore checks the trust store directory's layout and returns
// notation-go's directory-based X509 trust store over it.
func openTrustStore(root string) (truststore.X509TrustStore, error) {
	info, err := os.Stat(filepath.Join(root, "x509"))
	if err != nil {
		return nil, fmt.Errorf("Notation trust store %s: expected an x509/ directory (x509/ca/<name>/, x509/signingAuthority/<name>/, x509/tsa/<name>/): %w", root, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("Notation trust store %s: x509 is not a directory", root)
	}
	return truststore.NewX509TrustStore(storeFS{root: root}), nil
}

// checkStores loads every trust store the policy names, so that a missing
// directory or a bad certificate is an error now, naming the directory,
// rather than a failed verification later.
func checkStores(ctx context.Context, doc *trustpolicy.Document, store truststore.X509TrustStore, root string) error {
	for _, st := range doc.TrustPolicies {
		level, err := st.SignatureVerification.GetVerificationLevel()
		if err != nil {
			return fmt.Errorf("trust policy statement %q: %w", st.Name, err)
		}
		if level.Name == trustpolicy.LevelSkip.Name {
			continue
		}
		for _, ts := range st.TrustStores {
			typ, name, ok := strings.Cut(ts, ":")
			if !ok {
				return fmt.Errorf("trust policy statement %q: trust store %q is not <type>:<name>", st.Name, ts)
			}
			if _, err := store.GetCertificates(ctx, truststore.Type(typ), name); err != nil {
				return fmt.Errorf("trust policy statement %q: trust store %q (%s): %w", st.Name, ts, filepath.Join(root, "x509", typ, name), err)
			}
		}
	}
	return nil
}
