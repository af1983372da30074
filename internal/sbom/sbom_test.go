package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	spdxjson "github.com/spdx/tools-golang/json"

	"github.com/drydock-scan/drydock/internal/distro"
	"github.com/drydock-scan/drydock/internal/extract/osrelease"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
)

// fixtures returns the reports the tests encode. The Alpine, AlmaLinux,
// Debian and Alpine edge reports come from reporttest; "edge" adds the
// corners: a package with a differing source version, several locations, an
// unknown layer, no PURL, a licence list mixing SPDX ids and free text, and
// metadata.
func fixtures() map[string]*report.Report {
	edge := reporttest.Alpine()
	edge.Packages = append(edge.Packages, inventory.Package{
		ID: "00000000deadbeef", Name: "libc6", Version: "2.36-9+deb12u4", Ecosystem: inventory.EcoDpkg,
		PURL:       "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
		SourceName: "glibc", SourceVersion: "2.36-9+deb12u3", Arch: "amd64",
		Licenses: []string{"GPL-2.0-only", "LGPL-2.1+ and some text", "(MIT OR Apache-2.0)"},
		Locations: []inventory.Location{
			{Path: "/var/lib/dpkg/status", LayerDiffID: "sha256:1111"},
			{Path: "/var/lib/dpkg/info/libc6:amd64.list"},
		},
		Layer:    &inventory.Layer{Index: 7, DiffID: "sha256:1111"},
		FoundBy:  "os/dpkg",
		Metadata: map[string]string{"a=b%3D": "c=d", "multi": "line\nvalue"},
	}, inventory.Package{
		ID: "00000000cafef00d", Name: "@scope/left-pad", Version: "1.3.0", Ecosystem: inventory.EcoNPM,
		Locations: []inventory.Location{{Path: "/app/node_modules/@scope/left-pad/package.json"}},
		Declared:  true,
	})
	edge.Summarise()
	return map[string]*report.Report{
		"alpine":    reporttest.Alpine(),
		"almalinux": reporttest.AlmaLinux(),
		"edge":      edge,
		// dpkg packages with epochs and source versions; a distro with no
		// numeric release (Alpine edge) and a Go binary.
		"debian":      reporttest.Debian(),
		"alpine-edge": reporttest.AlpineEdge(),
	}
}

func cdxSchema(t *testing.T) *reporttest.Schema {
	t.Helper()
	s, err := reporttest.CompileSchema("http://cyclonedx.org/schema/bom-1.6.schema.json", map[string]string{
		"http://cyclonedx.org/schema/bom-1.6.schema.json":  "testdata/schema/bom-1.6.schema.json",
		"http://cyclonedx.org/schema/spdx.schema.json":     "testdata/schema/spdx.schema.json",
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": "testdata/schema/jsf-0.82.schema.json",
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCycloneDXValidatesAgainstSchema(t *testing.T) {
	schema := cdxSchema(t)
	for name, r := range fixtures() {
		for _, vulns := range []bool{false, true} {
			var buf bytes.Buffer
			if err := WriteCycloneDX(&buf, r, vulns); err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(buf.Bytes()); err != nil {
				t.Errorf("%s (vulns=%v): CycloneDX output does not validate:\n%v", name, vulns, err)
			}
		}
	}
	// The schema is strict enough to catch a broken document.
	bad := `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"nonsense","name":"x"}]}`
	if err := schema.Validate([]byte(bad)); err == nil {
		t.Error("schema accepted a component of type nonsense")
	}
}

func TestSPDXValidatesAgainstSchema(t *testing.T) {
	const id = "http://spdx.org/rdf/terms/2.3"
	schema, err := reporttest.CompileSchema(id, map[string]string{id: "testdata/schema/spdx-2.3.schema.json"})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range fixtures() {
		var buf bytes.Buffer
		if err := WriteSPDX(&buf, r); err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(buf.Bytes()); err != nil {
			t.Errorf("%s: SPDX output does not validate:\n%v", name, err)
		}
		// The official library reads it back (its own structural check).
		if _, err := spdxjson.Read(bytes.NewReader(buf.Bytes())); err != nil {
			t.Errorf("%s: tools-golang cannot read the SPDX output: %v", name, err)
		}
	}
	// The sample documents of other producers validate too (they are realistic).
	for _, f := range []string{"testdata/syft-alpine.spdx.json", "testdata/trivy-almalinux.spdx.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(b); err != nil {
			t.Errorf("%s does not validate:\n%v", f, err)
		}
	}
	bad := `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","dataLicense":"CC0-1.0","name":"x","documentNamespace":"x","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: x"]},"packages":[{"SPDXID":"SPDXRef-a","name":"a","downloadLocation":"NONE","primaryPackagePurpose":"OPERATING-SYSTEM"}]}`
	if err := schema.Validate([]byte(bad)); err == nil {
		t.Error("schema accepted primaryPackagePurpose OPERATING-SYSTEM (the JSON spelling is OPERATING_SYSTEM)")
	}
}

func TestCycloneDXContent(t *testing.T) {
	bom := CycloneDX(reporttest.AlmaLinux(), true)
	if bom.Metadata.Component.Type != cdx.ComponentTypeContainer {
		t.Errorf("metadata.component.type = %q", bom.Metadata.Component.Type)
	}
	wantPURL := "pkg:oci/server@" + reporttest.AlmaLinux().Image.Digest +
		"?arch=arm64&repository_url=registry.example.com%2Fshop%2Fserver&tag=1.4.2"
	if diff := cmp.Diff(wantPURL, bom.Metadata.Component.PackageURL); diff != "" {
		t.Errorf("image purl (-want +got):\n%s", diff)
	}
	type vulnSummary struct {
		ID, Ref, State, Justification string
		Methods                       []string
		Props                         map[string]string
		Versions                      []string
	}
	var got []vulnSummary
	for _, v := range *bom.Vulnerabilities {
		s := vulnSummary{ID: v.ID, Ref: (*v.Affects)[0].Ref, Props: map[string]string{}}
		if v.Analysis != nil {
			s.State, s.Justification = string(v.Analysis.State), string(v.Analysis.Justification)
		}
		for _, r := range *v.Ratings {
			s.Methods = append(s.Methods, string(r.Method)+"/"+string(r.Severity))
		}
		for _, p := range *v.Properties {
			s.Props[p.Name] = p.Value
		}
		for _, av := range *(*v.Affects)[0].Range {
			s.Versions = append(s.Versions, av.Version+av.Range+"="+string(av.Status))
		}
		got = append(got, s)
	}
	alma := reporttest.AlmaLinux()
	id := func(name string) string {
		for _, p := range alma.Packages {
			if p.Name == name {
				return p.ID
			}
		}
		return ""
	}
	want := []vulnSummary{
		{
			ID: "ALSA-2023:5453", Ref: id("glibc"), Methods: []string{"CVSSv31/high", "other/high"},
			Props:    map[string]string{PropKEV: "true", PropFixedVersion: "2.34-60.el9_2.7", PropStatus: "fixed", PropSeveritySource: "vendor", PropVendorSeverity: "Important", PropPackageID: id("glibc")},
			Versions: []string{"2.34-28.el9_0=affected", "vers:rpm/<2.34-60.el9_2.7=affected"},
		},
		{
			ID: "GO-2023-2185", Ref: id("stdlib"), State: "not_affected", Justification: "code_not_reachable",
			Methods:  []string{"CVSSv31/high", "other/high"},
			Props:    map[string]string{PropFixedVersion: "1.21.4", PropStatus: "fixed", PropSeveritySource: "nvd", PropPackageID: id("stdlib")},
			Versions: []string{"go1.21.1=unaffected", "vers:golang/<1.21.4=affected"},
		},
	}
	var picked []vulnSummary
	for _, g := range got {
		if g.ID == "ALSA-2023:5453" || g.ID == "GO-2023-2185" {
			picked = append(picked, g)
		}
	}
	if diff := cmp.Diff(want, picked); diff != "" {
		t.Errorf("vulnerabilities (-want +got):\n%s", diff)
	}
	if n := len(*bom.Vulnerabilities); n != len(alma.Findings) {
		t.Errorf("got %d vulnerabilities, want one per finding (%d)", n, len(alma.Findings))
	}
	// Without vulnerabilities there are none.
	if b := CycloneDX(alma, false); b.Vulnerabilities != nil {
		t.Errorf("withVulns=false wrote %d vulnerabilities", len(*b.Vulnerabilities))
	}
}

func TestCycloneDXDoesNotModifyReport(t *testing.T) {
	r := reporttest.AlmaLinux()
	before := reporttest.AlmaLinux()
	CycloneDX(r, true)
	SPDX(r)
	if diff := cmp.Diff(before, r); diff != "" {
		t.Errorf("encoding modified the report (-before +after):\n%s", diff)
	}
}

// TestRoundTrip: drydock → SBOM → Decode gives back the same packages (so a
// re-scan matches identically), the same distro and the same image.
func TestRoundTrip(t *testing.T) {
	encoders := map[string]func(*bytes.Buffer, *report.Report) error{
		"cyclonedx": func(b *bytes.Buffer, r *report.Report) error { return WriteCycloneDX(b, r, false) },
		"cyclonedx+vulns": func(b *bytes.Buffer, r *report.Report) error {
			return WriteCycloneDX(b, r, true)
		},
		"spdx": func(b *bytes.Buffer, r *report.Report) error { return WriteSPDX(b, r) },
	}
	for name, r := range fixtures() {
		for encName, enc := range encoders {
			t.Run(name+"/"+encName, func(t *testing.T) {
				var buf bytes.Buffer
				if err := enc(&buf, r); err != nil {
					t.Fatal(err)
				}
				got, err := Decode(context.Background(), &buf)
				if err != nil {
					t.Fatal(err)
				}
				want := r.Normalized()
				if diff := cmp.Diff(want.Packages, got.Packages, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("packages (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want.Distro, got.Distro); diff != "" {
					t.Errorf("distro (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want.Image, got.Image, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("image (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want.Tool, got.Tool); diff != "" {
					t.Errorf("tool (-want +got):\n%s", diff)
				}
				if !got.CreatedAt.Equal(want.CreatedAt) {
					t.Errorf("created = %v, want %v", got.CreatedAt, want.CreatedAt)
				}
			})
		}
	}
}

// decodedPkg is what TestDecodeOtherProducers checks of a package.
type decodedPkg struct {
	Name, Version, Ecosystem, Source, SourceVersion, Arch, Path, LayerDiffID string
	LayerIndex                                                               int
	Epoch                                                                    int
	Licenses                                                                 []string
}

// TestDecodeOtherProducers reads small Syft and Trivy documents (written by
// hand for these tests in the shape those tools produce, see testdata/README.md).
func TestDecodeOtherProducers(t *testing.T) {
	const alpineDiff = "sha256:d4fc045c9e3a848011de66f34b81f052d4f2c15a17bb196d637e526349601820"
	const almaBase = "sha256:5b9c2e1a7f3d4c8b9a0e1f2d3c4b5a6978877665544332211000ffeeddccbbaa"
	const almaApp = "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff0"
	apk := func(name, source string, layerIndex int, diff, path string, lic ...string) decodedPkg {
		v := "1.35.0-r17"
		if name == "musl-utils" {
			v = "1.2.3-r3"
		}
		return decodedPkg{Name: name, Version: v, Ecosystem: "apk", Source: source, Arch: "x86_64", Path: path,
			LayerDiffID: diff, LayerIndex: layerIndex, Licenses: lic}
	}
	const db = "/lib/apk/db/installed"
	tests := []struct {
		file        string
		distro      inventory.Distro
		tool        report.Tool
		imageRef    string
		imageName   string
		imageDigest string
		layers      int
		pkgs        []decodedPkg
		notes       []string
	}{
		{
			file: "syft-alpine.cdx.json", distro: inventory.Distro{ID: "alpine", VersionID: "3.16.9", Release: "v3.16", PrettyName: "Alpine Linux v3.16"},
			tool: report.Tool{Name: "syft", Version: "1.18.1"}, imageRef: "alpine:3.16.9",
			imageDigest: "sha256:1f8ea3c1a0e2b0a9d7b0f0c0b6fa3bb2a3c3c1b0e0a0c0f0e0d0c0b0a0908070",
			pkgs: []decodedPkg{
				apk("busybox", "", -1, alpineDiff, db, "GPL-2.0-only"),
				apk("musl-utils", "musl", -1, alpineDiff, db, "MIT", "BSD", "GPL2+"),
				apk("ssl_client", "busybox", -1, alpineDiff, db, "GPL-2.0-only"),
			},
			notes: []string{"1 SBOM components skipped: no supported package URL type: generic (1)"},
		},
		{
			file: "trivy-alpine.cdx.json", distro: inventory.Distro{ID: "alpine", VersionID: "3.16.9", Release: "v3.16"},
			tool: report.Tool{Name: "trivy", Version: "0.58.1"}, imageRef: "alpine:3.16.9", imageName: "index.docker.io/library/alpine",
			imageDigest: "sha256:452e7292acee0ee16c332324d7de05fa2c99f9994ecc9f0779c602916a672ae4", layers: 1,
			pkgs: []decodedPkg{
				apk("busybox", "", 0, alpineDiff, "", "GPL-2.0-only"),
				apk("musl-utils", "musl", 0, alpineDiff, "", "MIT", "BSD", "GPL2+"),
				apk("ssl_client", "busybox", 0, alpineDiff, "", "GPL-2.0-only"),
			},
		},
		{
			file: "syft-alpine.spdx.json", distro: inventory.Distro{ID: "alpine", VersionID: "3.16.9", Release: "v3.16"},
			tool: report.Tool{Name: "syft", Version: "1.18.1"}, imageRef: "alpine",
			imageDigest: "sha256:1f8ea3c1a0e2b0a9d7b0f0c0b6fa3bb2a3c3c1b0e0a0c0f0e0d0c0b0a0908070",
			pkgs: []decodedPkg{
				apk("busybox", "", 0, "", db, "GPL-2.0-only"),
				apk("musl-utils", "musl", 0, "", db, "MIT AND LicenseRef-BSD AND LicenseRef-GPL2-"),
				apk("ssl_client", "busybox", 0, "", db, "GPL-2.0-only"),
			},
		},
		{
			file: "trivy-almalinux.spdx.json", distro: inventory.Distro{ID: "almalinux", VersionID: "9.0", Release: "9"},
			tool: report.Tool{Name: "trivy", Version: "0.58.1"}, imageRef: "registry.example.com/shop/server:1.4.2",
			imageName:   "registry.example.com/shop/server",
			imageDigest: "sha256:9d1bcb3c4be6a4aa8e4f5c0b3b2d8e1f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d", layers: 2,
			pkgs: []decodedPkg{
				{Name: "golang.org/x/net", Version: "v0.15.0", Ecosystem: "Go", Path: "/app/bin/server", LayerDiffID: almaApp, LayerIndex: 1},
				{Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1", Ecosystem: "Maven", Path: "/app/lib/log4j-core-2.14.1.jar", LayerDiffID: almaApp, LayerIndex: 1, Licenses: []string{"Apache-2.0"}},
				{Name: "openssl-libs", Version: "3.0.1-20.el9_0", Ecosystem: "rpm", Source: "openssl", Arch: "aarch64", Epoch: 1, LayerDiffID: almaBase, Licenses: []string{"Apache-2.0"}},
			},
		},
		{
			file: "syft-almalinux.cdx.json", distro: inventory.Distro{ID: "almalinux", VersionID: "9.0", Release: "9", PrettyName: "AlmaLinux 9.0 Beta (Emerald Puma)"},
			tool: report.Tool{Name: "syft", Version: "1.18.1"}, imageRef: "registry.example.com/shop/server:1.4.2",
			imageDigest: "sha256:9d1bcb3c4be6a4aa8e4f5c0b3b2d8e1f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d",
			pkgs: []decodedPkg{
				{Name: "golang.org/x/net", Version: "v0.15.0", Ecosystem: "Go", Path: "/app/bin/server", LayerDiffID: almaBase, LayerIndex: -1},
				{Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1", Ecosystem: "Maven", Path: "/app/lib/log4j-core-2.14.1.jar", LayerDiffID: almaBase, LayerIndex: -1, Licenses: []string{"Apache-2.0"}},
				{Name: "openssl-libs", Version: "3.0.1-20.el9_0", Ecosystem: "rpm", Source: "openssl", Arch: "aarch64", Epoch: 1, Path: "/var/lib/rpm/rpmdb.sqlite", LayerDiffID: almaBase, LayerIndex: -1, Licenses: []string{"ASL 2.0"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := Decode(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			var got []decodedPkg
			for _, p := range r.Packages {
				g := decodedPkg{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, Source: p.SourceName,
					SourceVersion: p.SourceVersion, Arch: p.Arch, Path: p.PrimaryPath(), Epoch: p.Epoch, Licenses: p.Licenses}
				if p.Layer != nil {
					g.LayerDiffID, g.LayerIndex = p.Layer.DiffID, p.Layer.Index
				}
				if p.ID == "" || p.PURL == "" {
					t.Errorf("package %s has no ID or PURL", p.Name)
				}
				got = append(got, g)
			}
			if diff := cmp.Diff(tt.pkgs, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(&tt.distro, r.Distro); diff != "" {
				t.Errorf("distro (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.tool, r.Tool); diff != "" {
				t.Errorf("tool (-want +got):\n%s", diff)
			}
			gotImg := []string{r.Image.Reference, r.Image.Name, r.Image.Digest, r.Image.Kind}
			if diff := cmp.Diff([]string{tt.imageRef, tt.imageName, tt.imageDigest, "sbom"}, gotImg); diff != "" {
				t.Errorf("image reference, name, digest, kind (-want +got):\n%s", diff)
			}
			if len(r.Image.Layers) != tt.layers {
				t.Errorf("got %d image layers, want %d", len(r.Image.Layers), tt.layers)
			}
			var notes []string
			for _, n := range r.Notes {
				notes = append(notes, n.Message)
			}
			if diff := cmp.Diff(tt.notes, notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
			if r.Summary.Packages != len(r.Packages) {
				t.Errorf("summary counts %d packages, report has %d", r.Summary.Packages, len(r.Packages))
			}
		})
	}
}

func TestDecodeOlderCycloneDX(t *testing.T) {
	b, err := os.ReadFile("testdata/trivy-alpine.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1.4", "1.5"} {
		doc := strings.ReplaceAll(string(b), `"1.6"`, `"`+v+`"`)
		doc = strings.ReplaceAll(doc, "bom-1.6.schema.json", "bom-"+v+".schema.json")
		r, err := Decode(context.Background(), strings.NewReader(doc))
		if err != nil {
			t.Fatalf("CycloneDX %s: %v", v, err)
		}
		if len(r.Packages) != 3 || r.Distro == nil || r.Distro.ID != "alpine" {
			t.Errorf("CycloneDX %s: %d packages, distro %+v", v, len(r.Packages), r.Distro)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "  \n", "empty document"},
		{"xml", `<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>`, "XML documents are not supported"},
		{"not json", "hello", "not a JSON document"},
		{"truncated", `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"lib`, "not a JSON document"},
		{"unknown format", `{"hello":"world"}`, "neither CycloneDX JSON"},
		{"old cyclonedx", `{"bomFormat":"CycloneDX","specVersion":"1.1"}`, `unsupported specVersion "1.1"`},
		{"bad spdx version", `{"spdxVersion":"SPDX-9.9"}`, "decoding SPDX"},
		{"bad component", `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":7}]}`, "decoding CycloneDX"},
		{"bad drydock layer", `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"type":"container","name":"x","properties":[{"name":"drydock:image:layer","value":"{"}]}}}`, "drydock:image:layer"},
		{"array", `[1,2]`, "not a JSON document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(context.Background(), strings.NewReader(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Decode(ctx, strings.NewReader(`{"spdxVersion":"SPDX-2.3"}`)); err == nil {
		t.Error("Decode with a cancelled context succeeded")
	}
}

func TestSplitHelpers(t *testing.T) {
	distros := []struct{ in, id, version string }{
		{"alpine-3.16.9", "alpine", "3.16.9"},
		{"debian-12", "debian", "12"},
		{"opensuse-leap-15.4", "opensuse-leap", "15.4"},
		{"3.16.9", "", "3.16.9"},
		{"bookworm", "bookworm", ""},
		{"", "", ""},
	}
	for _, d := range distros {
		id, v := splitDistro(d.in)
		if id != d.id || v != d.version {
			t.Errorf("splitDistro(%q) = %q, %q; want %q, %q", d.in, id, v, d.id, d.version)
		}
	}
	ups := []struct{ in, eco, name, version string }{
		{"busybox", "apk", "busybox", ""},
		{"util-linux@2.38.1-5", "dpkg", "util-linux", "2.38.1-5"},
		{"glibc-2.34-28.el9_0.src.rpm", "rpm", "glibc", "2.34-28.el9_0"},
		{"python3.11-3.11.2-2.el9.src.rpm", "rpm", "python3.11", "3.11.2-2.el9"},
		{"odd.src.rpm", "rpm", "odd", ""},
	}
	for _, u := range ups {
		n, v := splitUpstream(u.in, u.eco)
		if n != u.name || v != u.version {
			t.Errorf("splitUpstream(%q) = %q, %q; want %q, %q", u.in, n, v, u.name, u.version)
		}
	}
}

func TestSPDXContent(t *testing.T) {
	doc := SPDX(reporttest.Alpine())
	var rels []string
	for _, r := range doc.Relationships {
		if r.Relationship != "CONTAINS" || string(r.RefB.ElementRefID) == "OperatingSystem" {
			rels = append(rels, string(r.RefA.ElementRefID)+" "+r.Relationship+" "+string(r.RefB.ElementRefID))
		}
	}
	want := []string{"DOCUMENT DESCRIBES DocumentRoot-Image", "DocumentRoot-Image CONTAINS OperatingSystem"}
	if diff := cmp.Diff(want, rels); diff != "" {
		t.Errorf("relationships (-want +got):\n%s", diff)
	}
	// musl-utils' "MIT BSD GPL2+" is read as SPDX (internal/license); the
	// BSD it names has no SPDX id: a LicenseRef whose text is the string.
	var lic string
	for _, p := range doc.Packages {
		if p.PackageName == "musl-utils" {
			lic = p.PackageLicenseDeclared
		}
	}
	if lic != "(MIT AND LicenseRef-BSD AND GPL-2.0-or-later)" {
		t.Errorf("musl-utils licenseDeclared = %q", lic)
	}
	if len(doc.OtherLicenses) != 1 || doc.OtherLicenses[0].LicenseIdentifier != "LicenseRef-BSD" ||
		doc.OtherLicenses[0].ExtractedText != "BSD" {
		b, _ := json.Marshal(doc.OtherLicenses)
		t.Errorf("hasExtractedLicensingInfos = %s", b)
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var buf bytes.Buffer
	if err := WriteCycloneDX(&buf, reporttest.Alpine(), true); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	var spdx3 bytes.Buffer
	if err := WriteSPDX3(&spdx3, fixtures()["edge"]); err != nil {
		f.Fatal(err)
	}
	f.Add(spdx3.Bytes())
	f.Add([]byte(`{"spdxVersion":"SPDX-2.2","packages":[{"SPDXID":"SPDXRef-a","name":"x","externalRefs":[{"referenceCategory":"PACKAGE_MANAGER","referenceType":"purl","referenceLocator":"pkg:rpm/x@1?upstream=x-1-1.src.rpm&epoch=2"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(context.Background(), bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever decodes must encode again.
		var out bytes.Buffer
		if err := WriteCycloneDX(&out, r, false); err != nil {
			t.Fatalf("re-encoding a decoded document: %v", err)
		}
		if err := WriteSPDX(&out, r); err != nil {
			t.Fatalf("re-encoding a decoded document as SPDX: %v", err)
		}
		if err := WriteSPDX3(&out, r); err != nil {
			t.Fatalf("re-encoding a decoded document as SPDX 3: %v", err)
		}
	})
}

// TestDistroSameAcrossProducers: an image and its SBOMs (drydock's own, Syft's
// and Trivy's, CycloneDX and SPDX) give the distro the same release and
// advisory ecosystem as a fresh scan of its os-release, Alpine edge included.
func TestDistroSameAcrossProducers(t *testing.T) {
	tests := []struct {
		name, versionID, prettyName string
		wantRelease, wantEco        string
	}{
		{"alpine 3.16.9", "3.16.9", "Alpine Linux v3.16", "v3.16", "Alpine:v3.16"},
		{"alpine edge", "3.21.0_alpha20240807", "Alpine Linux edge", "edge", "Alpine:edge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			osRelease := fmt.Sprintf("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=%s\nPRETTY_NAME=%q\n", tt.versionID, tt.prettyName)
			fresh, err := osrelease.Parse("/etc/os-release", []byte(osRelease))
			if err != nil {
				t.Fatal(err)
			}
			fresh = osrelease.Resolve([]inventory.Distro{*fresh})
			if fresh.Release != tt.wantRelease || distro.AdvisoryEcosystem(fresh) != tt.wantEco {
				t.Fatalf("fresh scan: release %q ecosystem %q, want %q %q", fresh.Release, distro.AdvisoryEcosystem(fresh), tt.wantRelease, tt.wantEco)
			}
			docs := map[string][]byte{}
			for _, f := range []string{"syft-alpine.cdx.json", "trivy-alpine.cdx.json", "syft-alpine.spdx.json"} {
				b, err := os.ReadFile(filepath.Join("testdata", f))
				if err != nil {
					t.Fatal(err)
				}
				docs[f] = bytes.ReplaceAll(b, []byte("3.16.9"), []byte(tt.versionID))
			}
			own := reporttest.Alpine()
			own.Distro = &inventory.Distro{ID: "alpine", VersionID: tt.versionID, PrettyName: tt.prettyName, Release: fresh.Release, Source: "/etc/os-release"}
			var cdxBuf, spdxBuf bytes.Buffer
			if err := WriteCycloneDX(&cdxBuf, own, false); err != nil {
				t.Fatal(err)
			}
			if err := WriteSPDX(&spdxBuf, own); err != nil {
				t.Fatal(err)
			}
			docs["drydock.cdx.json"], docs["drydock.spdx.json"] = cdxBuf.Bytes(), spdxBuf.Bytes()
			for name, doc := range docs {
				got, err := decodeDistro(t, doc)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if got == nil {
					t.Errorf("%s: no distro decoded", name)
					continue
				}
				if got.Release != fresh.Release || distro.AdvisoryEcosystem(got) != distro.AdvisoryEcosystem(fresh) {
					t.Errorf("%s: release %q ecosystem %q; the fresh scan gives %q %q", name,
						got.Release, distro.AdvisoryEcosystem(got), fresh.Release, distro.AdvisoryEcosystem(fresh))
				}
			}
		})
	}
}

func decodeDistro(t *testing.T, doc []byte) (*inventory.Distro, error) {
	t.Helper()
	r, err := Decode(t.Context(), bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	return r.Distro, nil
}
