package main

// "drybench verify": what the supply-chain verify stage of drydock image
// (--verify-key, docs/supply-chain.md) costs. It pushes the repository's
// Alpine 3.16.9 image to a real docker-registry on loopback, signs it with a
// key made for the run (a cosign-sign statement and a SLSA v1 provenance
// statement, internal/attest), and times bin/drydock image without and with
// --verify-key KEY --require-signature, with a warm layer cache and with
// --no-cache, interleaved. The figures are ratios against the run without
// verification, from the same run. A counting proxy in front of the
// registry gives, in separate untimed runs, the registry requests the
// verify stage adds. See docs/performance.md, "Verify stage".

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/drydock-scan/drydock/internal/attest"
)

const (
	cosignSignPredicate = "https://sigstore.dev/cosign/sign/v1"
	slsaV1Predicate     = "https://slsa.dev/provenance/v1"
	// verifyRepoPath is where the image is pushed in the registry.
	verifyRepoPath = "bench/alpine:3.16.9"
)

type verifyOptions struct {
	repo, work, drydock, registry, image string
	runs                                 int
	noCount                              bool
}

func parseVerifyArgs(args []string) (verifyOptions, error) {
	var o verifyOptions
	fs := flag.NewFlagSet("drybench verify", flag.ContinueOnError)
	fs.IntVar(&o.runs, "runs", 5, "runs of each measurement (median and min reported)")
	fs.StringVar(&o.repo, "repo", "", "repository root (default: found from the working directory)")
	fs.StringVar(&o.work, "work", "", "work directory (default REPO/bench/.work/verify)")
	fs.StringVar(&o.drydock, "drydock", "", "drydock binary (default REPO/bin/drydock, from \"make build\")")
	fs.StringVar(&o.registry, "registry", "/usr/bin/docker-registry", "docker-registry binary (Debian package docker-registry)")
	fs.StringVar(&o.image, "image", "", "docker archive pushed and scanned (default REPO/testdata/images/alpine-3.16.9.tar)")
	fs.BoolVar(&o.noCount, "no-count", false, "skip counting the registry requests (the untimed runs through a counting proxy)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.runs < 1 {
		return o, errors.New("-runs must be at least 1")
	}
	var err error
	if o.repo == "" {
		if o.repo, err = findRepo(); err != nil {
			return o, err
		}
	}
	if o.work == "" {
		o.work = filepath.Join(o.repo, "bench", ".work", "verify")
	}
	if o.drydock == "" {
		o.drydock = filepath.Join(o.repo, "bin", "drydock")
	}
	if o.image == "" {
		o.image = filepath.Join(o.repo, "testdata", "images", "alpine-3.16.9.tar")
	}
	return o, nil
}

func verifyCmd(ctx context.Context, args []string) error {
	o, err := parseVerifyArgs(args)
	if err != nil {
		return err
	}
	for _, p := range []string{o.drydock, o.registry, o.image} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing (make build; apt-get install docker-registry): %w", p, err)
		}
	}
	if err := os.MkdirAll(o.work, 0o755); err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "drybench verify: "+format+"\n", a...) }
	res, err := runVerifyBench(ctx, o, logf)
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	out := filepath.Join(o.work, "results-"+res.Started.UTC().Format("20060102T150405")+".json")
	if err := os.WriteFile(out, append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	fmt.Print(verifyTable(res))
	logf("results written to %s", out)
	return nil
}

// verifyResults is what one run measured (written as JSON).
type verifyResults struct {
	Started      time.Time      `json:"started"`
	Commit       string         `json:"commit"`
	Machine      machineInfo    `json:"machine"`
	LoadBefore   string         `json:"loadavg_before"`
	LoadAfter    string         `json:"loadavg_after"`
	Runs         int            `json:"runs"`
	Image        string         `json:"image"`
	Digest       string         `json:"digest"`
	Commands     []string       `json:"commands"`
	Measurements []*measurement `json:"measurements"`
	Ratios       []ratio        `json:"ratios"`
	// Requests are the registry requests of one untimed run of each
	// command through the counting proxy (nil with -no-count).
	Requests []requestCount `json:"registry_requests,omitempty"`
	Notes    []string       `json:"notes,omitempty"`
}

// requestCount is the registry requests one drydock run made, by kind.
type requestCount struct {
	Name   string         `json:"name"`
	Total  int            `json:"total"`
	ByKind map[string]int `json:"by_kind"`
}

// The four timed commands, in the order of the measurements.
const (
	vWarmBase   = "warm cache, no verification"
	vWarmVerify = "warm cache, --verify-key --require-signature"
	vColdBase   = "--no-cache, no verification"
	vColdVerify = "--no-cache, --verify-key --require-signature"
)

// verifyRatios are the verify stage's costs: each verifying run over the
// run without verification, by median, by the fastest runs and by CPU.
func verifyRatios(ms []*measurement) ([]ratio, error) {
	by := map[string]*measurement{}
	for _, m := range ms {
		by[m.Name] = m
	}
	var out []ratio
	for _, p := range []struct{ label, base, with string }{
		{"warm: verify / no verify", vWarmBase, vWarmVerify},
		{"cold (--no-cache): verify / no verify", vColdBase, vColdVerify},
	} {
		b, w := by[p.base], by[p.with]
		if b == nil || w == nil {
			return nil, fmt.Errorf("no measurement %q or %q", p.base, p.with)
		}
		if b.Median <= 0 || b.Min <= 0 {
			return nil, fmt.Errorf("measurement %q has no positive time", p.base)
		}
		out = append(out,
			ratio{Name: p.label, Value: w.Median / b.Median, Note: "wall time, medians"},
			ratio{Name: p.label + ", fastest runs", Value: w.Min / b.Min, Note: "wall time, least disturbed runs"})
		if b.MedianCPU > 0 {
			out = append(out, ratio{Name: p.label + ", CPU time", Value: w.MedianCPU / b.MedianCPU, Note: "user+system CPU of drydock, medians"})
		}
		out = append(out, ratio{Name: p.label + ", added", Value: 1000 * (w.Median - b.Median), Unit: "ms", Note: "difference of the medians"})
	}
	return out, nil
}

// requestKind classifies a registry API path (distribution spec).
func requestKind(method, path string) string {
	switch {
	case path == "/v2/" || path == "/v2":
		return method + " /v2/"
	case strings.Contains(path, "/manifests/sha256-") && (strings.HasSuffix(path, ".sig") || strings.HasSuffix(path, ".att")):
		return method + " manifest by cosign tag sha256-<hex>" + path[len(path)-4:]
	case strings.Contains(path, "/manifests/sha256-"):
		return method + " manifest by sha256-<hex> tag (referrers fallback)"
	case strings.Contains(path, "/manifests/sha256:"):
		return method + " manifest by digest"
	case strings.Contains(path, "/manifests/"):
		return method + " manifest by tag"
	case strings.Contains(path, "/referrers/"):
		return method + " referrers API"
	case strings.Contains(path, "/blobs/uploads"):
		return method + " blob upload"
	case strings.Contains(path, "/blobs/"):
		return method + " blob"
	case strings.HasSuffix(path, "/tags/list"):
		return method + " tags list"
	}
	return method + " other"
}

// countingProxy forwards every request to the registry and counts them.
type countingProxy struct {
	mu     sync.Mutex
	byKind map[string]int
}

func (c *countingProxy) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.byKind
	c.byKind = map[string]int{}
	return old
}

func startCountingProxy(target string) (*countingProxy, string, func(), error) {
	u, err := url.Parse("http://" + target)
	if err != nil {
		return nil, "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	c := &countingProxy{byKind: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.byKind[requestKind(r.Method, r.URL.Path)]++
		c.mu.Unlock()
		rp.ServeHTTP(w, r)
	}), ReadHeaderTimeout: time.Minute}
	go func() { _ = srv.Serve(l) }()
	return c, l.Addr().String(), func() { _ = srv.Close() }, nil
}

func countOf(name string, byKind map[string]int) requestCount {
	rc := requestCount{Name: name, ByKind: byKind}
	for _, n := range byKind {
		rc.Total += n
	}
	return rc
}

// benchKey makes an ECDSA P-256 key pair for the run and writes it as PEM
// (the private key as openssl ecparam writes it, the public key as cosign).
func benchKey(dir string) (priv, pub string, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return "", "", err
	}
	priv, pub = filepath.Join(dir, "bench.key"), filepath.Join(dir, "bench.pub")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return "", "", err
	}
	return priv, pub, nil
}

// benchSLSAPredicate is a SLSA v1 provenance predicate of a GitHub Actions
// build (made up: only its shape matters to the cost).
func benchSLSAPredicate() map[string]any {
	return map[string]any{
		"buildDefinition": map[string]any{
			"buildType": "https://actions.github.io/buildtypes/workflow/v1",
			"externalParameters": map[string]any{"workflow": map[string]any{
				"ref": "refs/heads/main", "repository": "https://github.com/example/shop", "path": ".github/workflows/release.yml"}},
			"resolvedDependencies": []map[string]any{{"uri": "git+https://github.com/example/shop@refs/heads/main",
				"digest": map[string]string{"gitCommit": "3f2a9c1d5e7b9a0c2e4f6a8b0c1d3e5f7a9b1c3d"}}},
		},
		"runDetails": map[string]any{
			"builder":  map[string]any{"id": "https://github.com/actions/runner/github-hosted"},
			"metadata": map[string]any{"invocationId": "https://github.com/example/shop/actions/runs/1/attempts/1"},
		},
	}
}

// signAndAttach signs an in-toto statement about tag's image (digest) with
// the PEM private key in privFile and attaches the Sigstore bundle as a
// referrer (on distribution 2.8: the sha256-<hex> tag fallback).
func signAndAttach(ctx context.Context, privFile string, tag name.Tag, digest v1.Hash, predicateType string, predicate any) error {
	subject := tag.Context().Digest(digest.String())
	desc, err := remote.Head(subject, remote.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("HEAD %s: %w", subject, err)
	}
	st, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []map[string]any{{"name": tag.Context().Name(), "digest": map[string]string{"sha256": digest.Hex}}},
		"predicateType": predicateType,
		"predicate":     predicate,
	})
	if err != nil {
		return err
	}
	pemBytes, err := os.ReadFile(privFile)
	if err != nil {
		return err
	}
	key, err := attest.LoadPrivateKey(pemBytes)
	if err != nil {
		return fmt.Errorf("%s: %w", privFile, err)
	}
	bundle, err := attest.Sign(ctx, st, key)
	if err != nil {
		return fmt.Errorf("signing the %s statement: %w", predicateType, err)
	}
	if _, err := attest.Attach(ctx, subject, *desc, bundle, predicateType, time.Now()); err != nil {
		return fmt.Errorf("attaching %s to %s: %w", predicateType, subject, err)
	}
	return nil
}

// verifyArgs is drydock's command line for one run.
func verifyArgs(cache, db, pub string, cold, verify bool, ref string) []string {
	args := []string{"--quiet", "--cache-dir", cache, "image", "--db", db, "--insecure-registry", "-o", os.DevNull}
	if cold {
		args = append(args, "--no-cache")
	}
	if verify {
		args = append(args, "--verify-key", pub, "--require-signature")
	}
	return append(args, ref)
}

func runVerifyBench(ctx context.Context, o verifyOptions, logf func(string, ...any)) (*verifyResults, error) {
	res := &verifyResults{Started: time.Now(), Machine: readMachine(), Runs: o.runs, Image: o.image}
	if out, err := exec.CommandContext(ctx, o.drydock, "version").Output(); err == nil {
		res.Machine.Drydock = strings.TrimSpace(string(out))
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", o.repo, "describe", "--always", "--dirty").Output(); err == nil {
		res.Commit = strings.TrimSpace(string(out))
	}
	tmp, err := os.MkdirTemp(o.work, "run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	reg, host, err := startRegistry(ctx, o.registry, tmp)
	if err != nil {
		return nil, err
	}
	defer reg.stop()
	img, err := tarball.ImageFromPath(o.image, nil)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", o.image, err)
	}
	ref := host + "/" + verifyRepoPath
	tag, err := name.NewTag(ref)
	if err != nil {
		return nil, err
	}
	if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
		return nil, fmt.Errorf("pushing %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("digest of %s: %w", o.image, err)
	}
	res.Digest = digest.String()
	priv, pub, err := benchKey(tmp)
	if err != nil {
		return nil, fmt.Errorf("making the signing key: %w", err)
	}
	if err := signAndAttach(ctx, priv, tag, digest, cosignSignPredicate, map[string]any{}); err != nil {
		return nil, err
	}
	if err := signAndAttach(ctx, priv, tag, digest, slsaV1Predicate, benchSLSAPredicate()); err != nil {
		return nil, err
	}
	logf("pushed %s (%s), signed with a new key: cosign-sign and SLSA v1 statements attached", ref, digest)

	dbPath := filepath.Join(tmp, "drydock.db")
	mirror := filepath.Join(o.repo, "testdata", "mirror")
	if _, err := runChild(ctx, o.drydock, "--quiet", "--cache-dir", filepath.Join(tmp, "dbcache"), "db", "update", "--source", mirror, "--db", dbPath); err != nil {
		return nil, err
	}
	res.Commands = append(res.Commands,
		"drydock db update --source testdata/mirror --db DB",
		"(a) drydock --quiet --cache-dir C image --db DB --insecure-registry -o /dev/null REF",
		"(b) (a) with --verify-key PUB --require-signature",
		"(c) (a) with --no-cache",
		"(d) (a) with --no-cache --verify-key PUB --require-signature")

	warm := filepath.Join(tmp, "warm")
	cold := filepath.Join(tmp, "cold")
	run := func(cache string, coldRun, verify bool, r string) (child, error) {
		return runChild(ctx, o.drydock, verifyArgs(cache, dbPath, pub, coldRun, verify, r)...)
	}
	// Unmeasured: the first scan fills the warm cache; one verifying run
	// checks the signature verifies (else --require-signature exits 4 and
	// runChild fails) and pages the binary in.
	for _, v := range []bool{false, true} {
		if _, err := run(warm, false, v, ref); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	res.LoadBefore = loadAvg()
	m := &measurer{opt: options{runs: o.runs}, logf: logf}
	ms, err := m.interleave(ctx,
		task{vWarmBase, func(int) (child, error) { return run(warm, false, false, ref) }},
		task{vWarmVerify, func(int) (child, error) { return run(warm, false, true, ref) }},
		task{vColdBase, func(int) (child, error) { return run(cold, true, false, ref) }},
		task{vColdVerify, func(int) (child, error) { return run(cold, true, true, ref) }},
	)
	if err != nil {
		return nil, err
	}
	res.LoadAfter = loadAvg()
	res.Measurements = ms
	if res.Ratios, err = verifyRatios(ms); err != nil {
		return nil, err
	}

	if o.noCount {
		res.Notes = append(res.Notes, "registry requests not counted (-no-count)")
		return res, nil
	}
	cp, proxyHost, stopProxy, err := startCountingProxy(host)
	if err != nil {
		return nil, fmt.Errorf("starting the counting proxy: %w", err)
	}
	defer stopProxy()
	pref := proxyHost + "/" + verifyRepoPath
	for _, c := range []struct {
		name          string
		coldRun, vrfy bool
	}{{vWarmBase, false, false}, {vWarmVerify, false, true}, {vColdBase, true, false}, {vColdVerify, true, true}} {
		cp.reset()
		if _, err := run(warm, c.coldRun, c.vrfy, pref); err != nil {
			return nil, fmt.Errorf("counting the requests of %q: %w", c.name, err)
		}
		res.Requests = append(res.Requests, countOf(c.name, cp.reset()))
	}
	res.Notes = append(res.Notes, "registry requests: one untimed run of each command through a counting HTTP proxy in drybench (same registry, same repository; the scans above did not go through it)")
	return res, nil
}

// verifyTable renders the results as the Markdown tables of
// docs/performance.md.
func verifyTable(r *verifyResults) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s), %d runs each, interleaved; load average %s → %s\n\n", filepath.Base(r.Image), r.Digest, r.Runs, r.LoadBefore, r.LoadAfter)
	b.WriteString("| command | median | min | CPU (median) | peak RSS (median) |\n|---|---|---|---|---|\n")
	for _, m := range r.Measurements {
		fmt.Fprintf(&b, "| %s | %.3f s | %.3f s | %.3f s | %.0f MB |\n", m.Name, m.Median, m.Min, m.MedianCPU, m.MedianRSS)
	}
	b.WriteString("\n| ratio | value | note |\n|---|---|---|\n")
	for _, x := range r.Ratios {
		v := fmt.Sprintf("%.3f", x.Value)
		if x.Unit != "" {
			v = fmt.Sprintf("%.0f %s", x.Value, x.Unit)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", x.Name, v, x.Note)
	}
	if len(r.Requests) > 0 {
		b.WriteString("\n| command | registry requests | by kind |\n|---|---|---|\n")
		for _, rc := range r.Requests {
			kinds := make([]string, 0, len(rc.ByKind))
			for k := range rc.ByKind {
				kinds = append(kinds, k)
			}
			slices.Sort(kinds)
			parts := make([]string, len(kinds))
			for i, k := range kinds {
				parts[i] = fmt.Sprintf("%s: %d", k, rc.ByKind[k])
			}
			fmt.Fprintf(&b, "| %s | %d | %s |\n", rc.Name, rc.Total, strings.Join(parts, "; "))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\nnote: %s\n", n)
	}
	return b.String()
}
