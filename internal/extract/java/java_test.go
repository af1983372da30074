package java

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/inventory"
)

var layer = extracttest.Layer{DiffID: "sha256:00000000000000000000000000000000000000000000000000000000000000aa"}

// entry is one file of a zip built by a test.
type entry struct {
	name  string
	data  []byte
	store bool // zip.Store instead of zip.Deflate
}

func buildZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.store {
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pomEntry(group, artifact, version string) entry {
	// The layout and content Maven's archiver writes.
	return entry{
		name: "META-INF/maven/" + group + "/" + artifact + "/pom.properties",
		data: []byte(fmt.Sprintf("#Created by Apache Maven 3.6.3\nversion=%s\ngroupId=%s\nartifactId=%s\n", version, group, artifact)),
	}
}

func manifestEntry(lines ...string) entry {
	return entry{name: "META-INF/MANIFEST.MF", data: []byte("Manifest-Version: 1.0\r\n" + strings.Join(lines, "\r\n") + "\r\n\r\n")}
}

func classEntry(name string) entry {
	return entry{name: name, data: []byte("\xca\xfe\xba\xbe\x00\x00\x00\x34")}
}

// log4jCore2141 is log4j-core 2.14.1 with the real jar's metadata layout
// (Log4Shell, CVE-2021-44228).
func log4jCore2141(t testing.TB) []byte {
	return buildZip(t,
		manifestEntry("Implementation-Title: Apache Log4j Core", "Implementation-Vendor-Id: org.apache.logging.log4j",
			"Implementation-Version: 2.14.1", "Bundle-SymbolicName: org.apache.logging.log4j.core", "Bundle-Version: 2.14.1"),
		pomEntry("org.apache.logging.log4j", "log4j-core", "2.14.1"),
		entry{name: "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.xml", data: []byte("<project/>")},
		classEntry("org/apache/logging/log4j/core/lookup/JndiLookup.class"),
	)
}

func mavenPkg(path, name, version, purl string, md map[string]string) inventory.Package {
	return inventory.Package{Name: name, Version: version, Ecosystem: "Maven", PURL: purl, Locations: layer.Locations(path), FoundBy: extractorName, Metadata: md}
}

func pomMD(group, artifact string, extra ...string) map[string]string {
	md := map[string]string{"evidence": "pom.properties", "pom_properties": "META-INF/maven/" + group + "/" + artifact + "/pom.properties"}
	for i := 0; i+1 < len(extra); i += 2 {
		md[extra[i]] = extra[i+1]
	}
	return md
}

func TestExtract(t *testing.T) {
	log4j := log4jCore2141(t)
	tests := []struct {
		name string
		path string
		data []byte
		want []inventory.Package
	}{
		{
			name: "log4j-core 2.14.1",
			path: "/opt/app/lib/log4j-core-2.14.1.jar",
			data: log4j,
			want: []inventory.Package{
				mavenPkg("/opt/app/lib/log4j-core-2.14.1.jar", "org.apache.logging.log4j:log4j-core", "2.14.1",
					"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", pomMD("org.apache.logging.log4j", "log4j-core")),
			},
		},
		{
			name: "renamed jar still found by pom.properties",
			path: "/app/x.jar",
			data: log4j,
			want: []inventory.Package{
				mavenPkg("/app/x.jar", "org.apache.logging.log4j:log4j-core", "2.14.1",
					"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", pomMD("org.apache.logging.log4j", "log4j-core")),
			},
		},
		{
			name: "shaded jar: every pom.properties, own one matched by file name",
			path: "/app/uber-tool-1.0.jar",
			data: buildZip(t,
				manifestEntry("Main-Class: com.example.Main"),
				pomEntry("com.example", "uber-tool", "1.0"),
				pomEntry("com.google.guava", "guava", "31.1-jre"),
				pomEntry("org.yaml", "snakeyaml", "1.30"),
				classEntry("com/example/Main.class"),
			),
			want: []inventory.Package{
				mavenPkg("/app/uber-tool-1.0.jar", "com.example:uber-tool", "1.0", "pkg:maven/com.example/uber-tool@1.0", pomMD("com.example", "uber-tool")),
				mavenPkg("/app/uber-tool-1.0.jar", "com.google.guava:guava", "31.1-jre", "pkg:maven/com.google.guava/guava@31.1-jre", pomMD("com.google.guava", "guava")),
				mavenPkg("/app/uber-tool-1.0.jar", "org.yaml:snakeyaml", "1.30", "pkg:maven/org.yaml/snakeyaml@1.30", pomMD("org.yaml", "snakeyaml")),
			},
		},
		{
			name: "shaded jar without its own pom: manifest describes it",
			path: "/app/tool.jar",
			data: buildZip(t,
				manifestEntry("Implementation-Title: tool", "Implementation-Version: 2.0.0", "Implementation-Vendor-Id: com.example"),
				pomEntry("com.google.guava", "guava", "31.1-jre"),
				pomEntry("org.yaml", "snakeyaml", "1.30"),
			),
			want: []inventory.Package{
				mavenPkg("/app/tool.jar", "com.example:tool", "2.0.0", "pkg:maven/com.example/tool@2.0.0",
					map[string]string{"evidence": "MANIFEST.MF", "group_id_source": "Implementation-Vendor-Id"}),
				mavenPkg("/app/tool.jar", "com.google.guava:guava", "31.1-jre", "pkg:maven/com.google.guava/guava@31.1-jre", pomMD("com.google.guava", "guava")),
				mavenPkg("/app/tool.jar", "org.yaml:snakeyaml", "1.30", "pkg:maven/org.yaml/snakeyaml@1.30", pomMD("org.yaml", "snakeyaml")),
			},
		},
		{
			name: "manifest only: OSGi bundle symbolic name gives the groupId",
			path: "/usr/share/java/jackson-databind.jar",
			data: buildZip(t, manifestEntry(
				"Bundle-SymbolicName: com.fasterxml.jackson.core.jackson-databind",
				"Bundle-Version: 2.14.0",
				"Implementation-Title: jackson-databind",
				"Implementation-Vendor-Id: com.fasterxml.jackson.core",
				"Implementation-Version: 2.14.0")),
			want: []inventory.Package{
				mavenPkg("/usr/share/java/jackson-databind.jar", "com.fasterxml.jackson.core:jackson-databind", "2.14.0",
					"pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.14.0",
					map[string]string{"evidence": "MANIFEST.MF", "group_id_source": "Bundle-SymbolicName"}),
			},
		},
		{
			name: "manifest with continuation lines and no file-name artifact",
			path: "/app/x.jar",
			data: buildZip(t, entry{name: "META-INF/MANIFEST.MF", data: []byte(
				"Manifest-Version: 1.0\nBundle-SymbolicName: org.example.very.long.bundle.na\n me;singleton:=true\nBundle-Version: 3.2.1\n\nName: org/example/\nImplementation-Version: 9.9\n")}),
			want: []inventory.Package{
				mavenPkg("/app/x.jar", "x", "3.2.1", "pkg:maven/x@3.2.1",
					map[string]string{"evidence": "MANIFEST.MF", "note": "groupId unknown"}),
			},
		},
		{
			name: "Jenkins plugin manifest",
			path: "/var/jenkins_home/plugins/git.jpi",
			data: buildZip(t, manifestEntry("Group-Id: org.jenkins-ci.plugins", "Short-Name: git", "Long-Name: Jenkins Git plugin",
				"Plugin-Version: 4.11.0", "Implementation-Title: git")),
			want: []inventory.Package{
				mavenPkg("/var/jenkins_home/plugins/git.jpi", "org.jenkins-ci.plugins:git", "4.11.0", "pkg:maven/org.jenkins-ci.plugins/git@4.11.0",
					map[string]string{"evidence": "MANIFEST.MF", "group_id_source": "Group-Id"}),
			},
		},
		{
			name: "file name only",
			path: "/app/lib/log4j-core-2.14.1.jar",
			data: buildZip(t, classEntry("org/apache/logging/log4j/core/Logger.class")),
			want: []inventory.Package{
				mavenPkg("/app/lib/log4j-core-2.14.1.jar", "log4j-core", "2.14.1", "pkg:maven/log4j-core@2.14.1",
					map[string]string{"evidence": "filename", "note": "groupId unknown"}),
			},
		},
		{
			name: "no evidence at all",
			path: "/app/lib/classes.jar",
			data: buildZip(t, classEntry("a/B.class")),
			want: nil,
		},
		{
			name: "pom.properties without version is ignored",
			path: "/app/lib/thing.jar",
			data: buildZip(t, entry{name: "META-INF/maven/g/a/pom.properties", data: []byte("groupId=g\nartifactId=a\n")}),
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Extract(context.Background(), layer.Input(tt.path, tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(inventory.Inventory{Packages: tt.want}, got); diff != "" {
				t.Errorf("Extract (-want +got):\n%s", diff)
			}
		})
	}
}

// springBootJar is a Spring Boot executable jar with the application's own
// pom.properties and three nested libraries (stored, as the Boot plugin
// does): one with pom.properties, one identified by its manifest and one by
// its file name only.
func springBootJar(t testing.TB) []byte {
	return buildZip(t,
		manifestEntry("Main-Class: org.springframework.boot.loader.JarLauncher", "Start-Class: com.example.demo.DemoApplication",
			"Spring-Boot-Version: 2.6.1", "Spring-Boot-Classes: BOOT-INF/classes/", "Spring-Boot-Lib: BOOT-INF/lib/"),
		pomEntry("com.example", "demo", "0.0.1-SNAPSHOT"),
		classEntry("org/springframework/boot/loader/JarLauncher.class"),
		classEntry("BOOT-INF/classes/com/example/demo/DemoApplication.class"),
		entry{name: "BOOT-INF/lib/log4j-core-2.14.1.jar", data: log4jCore2141(t), store: true},
		entry{name: "BOOT-INF/lib/spring-core-5.3.13.jar", store: true, data: buildZip(t,
			manifestEntry("Implementation-Title: spring-core", "Implementation-Version: 5.3.13", "Automatic-Module-Name: spring.core"),
			classEntry("org/springframework/core/SpringVersion.class"))},
		entry{name: "BOOT-INF/lib/commons-io-2.11.0.jar", store: true, data: buildZip(t, classEntry("org/apache/commons/io/IOUtils.class"))},
	)
}

func TestExtractSpringBoot(t *testing.T) {
	const p = "/app/demo-0.0.1-SNAPSHOT.jar"
	got, err := New().Extract(context.Background(), layer.Input(p, springBootJar(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.Inventory{Packages: []inventory.Package{
		mavenPkg(p, "com.example:demo", "0.0.1-SNAPSHOT", "pkg:maven/com.example/demo@0.0.1-SNAPSHOT", pomMD("com.example", "demo")),
		mavenPkg(p, "commons-io", "2.11.0", "pkg:maven/commons-io@2.11.0",
			map[string]string{"evidence": "filename", "note": "groupId unknown", "nested_path": p + "!/BOOT-INF/lib/commons-io-2.11.0.jar"}),
		mavenPkg(p, "org.apache.logging.log4j:log4j-core", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
			pomMD("org.apache.logging.log4j", "log4j-core", "nested_path", p+"!/BOOT-INF/lib/log4j-core-2.14.1.jar")),
		mavenPkg(p, "spring-core", "5.3.13", "pkg:maven/spring-core@5.3.13",
			map[string]string{"evidence": "MANIFEST.MF", "note": "groupId unknown", "nested_path": p + "!/BOOT-INF/lib/spring-core-5.3.13.jar"}),
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Extract (-want +got):\n%s", diff)
	}
}

// TestExtractEarWarJar: an ear holding a war (with WEB-INF/lib jars) and an
// EJB jar: three levels.
func TestExtractEarWarJar(t *testing.T) {
	const p = "/opt/jboss/deployments/shop.ear"
	war := buildZip(t,
		manifestEntry(),
		pomEntry("com.example", "shop-web", "1.2.0"),
		classEntry("WEB-INF/classes/com/example/Servlet.class"),
		entry{name: "WEB-INF/web.xml", data: []byte("<web-app/>")},
		entry{name: "WEB-INF/lib/log4j-core-2.14.1.jar", data: log4jCore2141(t)},
		entry{name: "WEB-INF/lib/jackson-databind-2.9.10.jar", data: buildZip(t, pomEntry("com.fasterxml.jackson.core", "jackson-databind", "2.9.10"))},
	)
	ear := buildZip(t,
		manifestEntry(),
		entry{name: "META-INF/application.xml", data: []byte("<application/>")},
		entry{name: "shop-web.war", data: war},
		entry{name: "shop-ejb-1.2.0.jar", data: buildZip(t, pomEntry("com.example", "shop-ejb", "1.2.0"))},
		pomEntry("com.example", "shop", "1.2.0"),
	)
	got, err := New().Extract(context.Background(), layer.Input(p, ear))
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.Inventory{Packages: []inventory.Package{
		mavenPkg(p, "com.example:shop", "1.2.0", "pkg:maven/com.example/shop@1.2.0", pomMD("com.example", "shop")),
		mavenPkg(p, "com.example:shop-ejb", "1.2.0", "pkg:maven/com.example/shop-ejb@1.2.0",
			pomMD("com.example", "shop-ejb", "nested_path", p+"!/shop-ejb-1.2.0.jar")),
		mavenPkg(p, "com.example:shop-web", "1.2.0", "pkg:maven/com.example/shop-web@1.2.0",
			pomMD("com.example", "shop-web", "nested_path", p+"!/shop-web.war")),
		mavenPkg(p, "com.fasterxml.jackson.core:jackson-databind", "2.9.10", "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10",
			pomMD("com.fasterxml.jackson.core", "jackson-databind", "nested_path", p+"!/shop-web.war!/WEB-INF/lib/jackson-databind-2.9.10.jar")),
		mavenPkg(p, "org.apache.logging.log4j:log4j-core", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
			pomMD("org.apache.logging.log4j", "log4j-core", "nested_path", p+"!/shop-web.war!/WEB-INF/lib/log4j-core-2.14.1.jar")),
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Extract (-want +got):\n%s", diff)
	}
}

// TestExtractDebianGolden runs the extractor on jars from Debian 12
// packages (see testdata/README.md), whole and with their pom.properties
// removed (so the manifest is the evidence), and compares with a golden file.
func TestExtractDebianGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/debian/*.jar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Debian jars: %v", err)
	}
	type result struct {
		File     string              `json:"file"`
		Packages []inventory.Package `json:"packages"`
	}
	var results []result
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p := "/usr/share/java/" + filepath.Base(f)
		inv, err := New().Extract(context.Background(), layer.Input(p, b))
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, result{File: filepath.Base(f), Packages: inv.Packages})
		// Same jar without META-INF/maven: manifest evidence.
		stripped := stripEntries(t, b, "META-INF/maven/")
		inv, err = New().Extract(context.Background(), layer.Input(p, stripped))
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, result{File: filepath.Base(f) + " without META-INF/maven", Packages: inv.Packages})
	}
	extracttest.Golden(t, "testdata/debian.golden.json", results)
}

// stripEntries copies a zip without the entries under prefix.
func stripEntries(t *testing.T, b []byte, prefix string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, prefix) {
			continue
		}
		if strings.HasSuffix(f.Name, "/") { // directory: no data
			if _, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestExtractLimits checks the zip bomb guards with small limits: partial
// results are kept and the error names the file and says "zip bomb guard".
func TestExtractLimits(t *testing.T) {
	zeros := bytes.Repeat([]byte{0}, 4<<20) // deflates to ~4 KiB
	small := Limits{MaxDepth: 8, MaxTotalBytes: 1 << 20, MaxEntryBytes: 8 << 20, MaxEntries: 50, MaxInMemory: 64 << 10, MaxMetaFile: 1 << 10}
	nest := func(depth int) []byte {
		b := log4jCore2141(t)
		for i := 0; i < depth; i++ {
			b = buildZip(t, entry{name: "self.jar", data: b})
		}
		return b
	}
	many := []entry{pomEntry("g", "many", "1")}
	for i := range 60 {
		many = append(many, classEntry(fmt.Sprintf("c/C%d.class", i)))
	}
	tests := []struct {
		name      string
		limits    Limits
		data      []byte
		wantPkgs  []string // name@version
		wantErr   string
		wantGuard bool
	}{
		{
			name:   "total bytes: bomb entry after a real jar",
			limits: small,
			data: buildZip(t,
				pomEntry("com.example", "bomb", "1.0"),
				entry{name: "lib/log4j-core-2.14.1.jar", data: log4jCore2141(t)},
				entry{name: "lib/zeros.jar", data: zeros},
			),
			wantPkgs:  []string{"com.example:bomb@1.0", "org.apache.logging.log4j:log4j-core@2.14.1"},
			wantErr:   "bytes decompressed",
			wantGuard: true,
		},
		{
			name:      "per-entry size",
			limits:    Limits{MaxDepth: 8, MaxTotalBytes: 1 << 30, MaxEntryBytes: 1 << 20, MaxEntries: 1000, MaxInMemory: 1 << 20, MaxMetaFile: 1 << 10},
			data:      buildZip(t, pomEntry("com.example", "big", "1.0"), entry{name: "lib/zeros.jar", data: zeros}),
			wantPkgs:  []string{"com.example:big@1.0"},
			wantErr:   `"/app/bomb.jar!/lib/zeros.jar" declares 4194304 bytes uncompressed`,
			wantGuard: true,
		},
		{
			name:      "recursive nesting is bounded by depth",
			limits:    Limits{MaxDepth: 3, MaxTotalBytes: 1 << 30, MaxEntryBytes: 1 << 30, MaxEntries: 1000, MaxInMemory: 1 << 20, MaxMetaFile: 1 << 10},
			data:      nest(6),
			wantPkgs:  nil,
			wantErr:   `"/app/bomb.jar!/self.jar!/self.jar!/self.jar!/self.jar" is nested deeper than 3 archives`,
			wantGuard: true,
		},
		{
			name:     "recursive nesting within the depth limit",
			limits:   DefaultLimits(),
			data:     nest(8),
			wantPkgs: []string{"org.apache.logging.log4j:log4j-core@2.14.1"},
		},
		{
			name:      "too many entries",
			limits:    small,
			data:      buildZip(t, many...),
			wantErr:   "has 61 entries (limit 50)",
			wantGuard: true,
		},
		{
			name:   "nested jar spilled to a temp file",
			limits: Limits{MaxDepth: 8, MaxTotalBytes: 1 << 30, MaxEntryBytes: 1 << 30, MaxEntries: 1000, MaxInMemory: 100, MaxMetaFile: 1 << 10},
			data:   buildZip(t, entry{name: "BOOT-INF/lib/log4j-core-2.14.1.jar", data: log4jCore2141(t)}),
			// The outer jar has no evidence and no version in its name.
			wantPkgs: []string{"org.apache.logging.log4j:log4j-core@2.14.1"},
		},
		{
			name:   "corrupt nested jar: error, outer results kept",
			limits: DefaultLimits(),
			data: buildZip(t, pomEntry("com.example", "outer", "1.0"),
				entry{name: "lib/broken.jar", data: []byte("PK\x03\x04 this is not a zip")}),
			wantPkgs: []string{"com.example:outer@1.0"},
			wantErr:  `nested archive "/app/bomb.jar!/lib/broken.jar": opening zip`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := NewWithLimits(tt.limits).Extract(context.Background(), layer.Input("/app/bomb.jar", tt.data))
			if diff := cmp.Diff(tt.wantPkgs, extracttest.NameVersions(inv.Packages)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			extracttest.CheckFileError(t, err, "/app/bomb.jar", tt.wantErr)
			if err == nil {
				return
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			if n := strings.Count(msg, "\n") + 1; n != 1 {
				t.Errorf("got %d errors, want 1: %s", n, msg)
			}
			if got := strings.Contains(msg, "zip bomb guard"); got != tt.wantGuard {
				t.Errorf("zip bomb guard in error = %v, want %v: %s", got, tt.wantGuard, msg)
			}
		})
	}
}

// TestExtractDeclaredBomb: with the default limits, an entry whose header
// declares 5 GiB is refused before any byte is inflated.
func TestExtractDeclaredBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	pom := pomEntry("com.example", "app", "1.0")
	w, err := zw.Create(pom.name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(pom.data)
	fw, err := zw.CreateRaw(&zip.FileHeader{Name: "lib/bomb.jar", Method: zip.Deflate, CompressedSize64: 2, UncompressedSize64: 5 << 30})
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte{3, 0}) // an empty deflate stream
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	inv, err := New().Extract(context.Background(), layer.Input("/app/app.jar", buf.Bytes()))
	if err == nil || !strings.Contains(err.Error(), `zip bomb guard: "/app/app.jar!/lib/bomb.jar" declares 5368709120 bytes`) {
		t.Errorf("error = %v, want a zip bomb guard error", err)
	}
	if len(inv.Packages) != 1 || inv.Packages[0].Name != "com.example:app" {
		t.Errorf("partial results not kept: %+v", inv.Packages)
	}
}

// TestExtractLyingSizes writes a nested entry whose header claims a small
// size while its data inflates to much more: reading stops at the declared
// size, so no more than that is held in memory.
func TestExtractLyingSizes(t *testing.T) {
	var comp bytes.Buffer
	inner := buildZip(t, pomEntry("g", "inner", "1"))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	fw, err := zw.CreateRaw(&zip.FileHeader{Name: "lib/inner.jar", Method: zip.Store,
		CompressedSize64: uint64(len(inner)) + 8<<20, UncompressedSize64: 100, CRC32: 0})
	if err != nil {
		t.Fatal(err)
	}
	comp.Write(inner)
	comp.Write(make([]byte, 8<<20))
	if _, err := fw.Write(comp.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	// The 100 bytes read are a truncated zip: an error, not a crash or an 8 MiB read.
	inv, err := New().Extract(context.Background(), layer.Input("/app/lie.jar", buf.Bytes()))
	if err == nil || !strings.Contains(err.Error(), `"/app/lie.jar!/lib/inner.jar"`) {
		t.Errorf("error = %v, want one naming the nested jar", err)
	}
	if len(inv.Packages) != 0 {
		t.Errorf("got packages %v", inv.Packages)
	}
}

func TestExtractBadInput(t *testing.T) {
	real := extracttest.Testdata(t, "debian/log4j-jul.jar")
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", []byte("this is not a zip file at all")},
		{"truncated real jar", real[:len(real)/2]},
		{"only the local header", real[:30]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New().Extract(context.Background(), layer.Input("/usr/share/java/bad.jar", tt.data))
			extracttest.CheckFileError(t, err, "/usr/share/java/bad.jar")
			if errors.Is(err, extract.ErrNotApplicable) {
				t.Errorf("a corrupt .jar is an error, not ErrNotApplicable")
			}
		})
	}
}

func TestExtractCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Extract(ctx, layer.Input("/a.jar", log4jCore2141(t))); !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestWants(t *testing.T) {
	e := New()
	tests := []extracttest.WantsCase{
		{Path: "/app/a.jar", Mode: 0o644, Size: 100, Want: true},
		{Path: "/app/A.JAR", Mode: 0o644, Size: 100, Want: true},
		{Path: "/app/a.war", Mode: 0o644, Size: 100, Want: true},
		{Path: "/app/a.ear", Mode: 0o644, Size: 100, Want: true},
		{Path: "/app/a.par", Mode: 0o644, Size: 100, Want: true},
		{Path: "/var/jenkins/plugins/git.jpi", Mode: 0o644, Size: 100, Want: true},
		{Path: "/var/jenkins/plugins/git.hpi", Mode: 0o644, Size: 100, Want: true},
		{Path: "/app/a.zip", Mode: 0o644, Size: 100, Want: false},
		{Path: "/app/jar", Mode: 0o644, Size: 100, Want: false},
		{Path: "/app/a.jar", Mode: fs.ModeDir | 0o755, Size: 100, Want: false},
		{Path: "/app/a.jar", Mode: fs.ModeSymlink, Size: 100, Want: false},
		{Path: "/app/a.jar", Mode: 0o644, Size: 0, Want: false},
		{Path: "/app/a.jar", Mode: 0o644, Size: MaxFileSize + 1, Want: false},
	}
	extracttest.CheckWants(t, e, tests)
}

func TestParseFileName(t *testing.T) {
	tests := []struct{ in, artifact, version string }{
		{"log4j-core-2.14.1.jar", "log4j-core", "2.14.1"},
		{"guava-31.1-jre.jar", "guava", "31.1-jre"},
		{"log4j-1.2-api-2.19.0.jar", "log4j-1.2-api", "2.19.0"},
		{"demo-0.0.1-SNAPSHOT.jar", "demo", "0.0.1-SNAPSHOT"},
		{"netty-handler-4.1.77.Final.jar", "netty-handler", "4.1.77.Final"},
		{"commons-lang3-3.12.0.jar", "commons-lang3", "3.12.0"},
		{"bcprov-jdk15on-1.70.jar", "bcprov-jdk15on", "1.70"},
		{"/a/b/jackson-databind.jar", "jackson-databind", ""},
		{"app.WAR", "app", ""},
		{"-1.0.jar", "-1.0", ""},
		{"x-.jar", "x-", ""},
		{"", ".", ""},
	}
	for _, tt := range tests {
		a, v := ParseFileName(tt.in)
		if a != tt.artifact || v != tt.version {
			t.Errorf("ParseFileName(%q) = %q, %q; want %q, %q", tt.in, a, v, tt.artifact, tt.version)
		}
	}
}

func TestParseProperties(t *testing.T) {
	in := "# comment\n! also comment\n  groupId = org.example \nartifactId:demo\nversion 1.0\\\n    .2\nname=a\\=b\\u0041\\\\\nempty=\n\nkey\\ with\\ space=v\r\nbad=\\u00zz\n"
	want := map[string]string{
		"groupId": "org.example", "artifactId": "demo", "version": "1.0.2", "name": `a=bA\`,
		"empty": "", "key with space": "v", "bad": `\u00zz`,
	}
	if diff := cmp.Diff(want, parseProperties([]byte(in))); diff != "" {
		t.Errorf("parseProperties (-want +got):\n%s", diff)
	}
}

func TestParseManifest(t *testing.T) {
	in := "Manifest-Version: 1.0\r\nImplementation-Title: Apache Log4j Core\r\nExport-Package: org.apache.logging.\r\n log4j.core;version=\"2.19.0\"\r\nno colon line\r\n continuation of nothing\r\nBundle-Version: 2.19.0\r\n\r\nName: per-entry\r\nImplementation-Version: 0\r\n"
	want := map[string]string{
		"manifest-version":     "1.0",
		"implementation-title": "Apache Log4j Core",
		"export-package":       `org.apache.logging.log4j.core;version="2.19.0"`,
		"bundle-version":       "2.19.0",
	}
	if diff := cmp.Diff(want, parseManifest([]byte(in))); diff != "" {
		t.Errorf("parseManifest (-want +got):\n%s", diff)
	}
}

func FuzzExtract(f *testing.F) {
	f.Add(buildZip(f, pomEntry("g", "a", "1"), entry{name: "lib/x-1.0.jar", data: buildZip(f, manifestEntry("Implementation-Version: 1"))}))
	f.Add(extracttest.Testdata(f, "debian/log4j-jul.jar"))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	e := NewWithLimits(Limits{MaxDepth: 4, MaxTotalBytes: 4 << 20, MaxEntryBytes: 1 << 20, MaxEntries: 1000, MaxInMemory: 1 << 20, MaxMetaFile: 64 << 10})
	extracttest.FuzzFile(f, e, layer.Input("/fuzz.jar", nil), extracttest.Complete, func(t *testing.T, inv inventory.Inventory) {
		for _, p := range inv.Packages {
			if p.Ecosystem != inventory.EcoMaven {
				t.Errorf("malformed package %+v", p)
			}
		}
	})
}

func FuzzParseProperties(f *testing.F) {
	f.Add([]byte("groupId=g\nartifactId=a\nversion=1\\\n.0\nx=\\u0041"))
	f.Fuzz(func(t *testing.T, b []byte) { parseProperties(b) })
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte("Manifest-Version: 1.0\r\nBundle-SymbolicName: a.b;singleton:=true\r\n c\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := parseManifest(b)
		fromManifest(m, "")
	})
}

func FuzzParseFileName(f *testing.F) {
	f.Add("log4j-core-2.14.1.jar")
	f.Fuzz(func(t *testing.T, s string) {
		a, v := ParseFileName(s)
		if v != "" && !strings.HasSuffix(strings.TrimSuffix(s, ".jar"), v) && !strings.Contains(s, v) {
			t.Errorf("version %q not part of %q", v, s)
		}
		_ = a
	})
}
