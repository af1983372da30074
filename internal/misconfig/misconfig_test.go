package misconfig

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract/apk"
	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// ids returns the IDs of the failed checks.
func ids(ms []finding.Misconfig) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func find(ms []finding.Misconfig, id string) *finding.Misconfig {
	for i := range ms {
		if ms[i].ID == id {
			return &ms[i]
		}
	}
	return nil
}

// hardened is an image that passes every check.
func hardened() inventory.Image {
	return inventory.Image{
		Config: inventory.ImageConfig{
			User:         "10001",
			Cmd:          []string{"/app/server"},
			ExposedPorts: []string{"8080/tcp"},
			Healthcheck:  []string{"CMD", "/app/server", "-healthcheck"},
		},
		History: []inventory.History{
			{CreatedBy: "/bin/sh -c #(nop) ADD file:4b03b5f551e3fbdf47ec609712007327828f7530cc3455c43bbcdcaf449a75a9 in / ", LayerIndex: 0},
			{CreatedBy: `/bin/sh -c #(nop)  CMD ["/bin/sh"]`, EmptyLayer: true, LayerIndex: -1},
			{CreatedBy: "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* # buildkit", LayerIndex: 1},
			{CreatedBy: "COPY /src/server /app/server # buildkit", LayerIndex: 2},
			{CreatedBy: "ADD vendor.tar.gz /opt/ # buildkit", LayerIndex: 3},
			{CreatedBy: "ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.org/tool.tgz /opt/tool.tgz # buildkit", LayerIndex: 4},
			{CreatedBy: "USER 10001", EmptyLayer: true, LayerIndex: -1},
		},
	}
}

func TestHardenedImagePasses(t *testing.T) {
	inv := &inventory.Inventory{
		Packages: []inventory.Package{{Name: "openssh-client", Version: "1:9.2p1-2", Ecosystem: inventory.EcoDpkg}, {Name: "openssh", Version: "8.7p1-38.el9", Ecosystem: inventory.EcoRPM}},
		Facts:    inventory.Facts{CacheBytes: map[string]int64{"/var/lib/apt/lists": 4096, "/var/cache/apt": 0}},
	}
	if got := Check(hardened(), inv); len(got) != 0 {
		t.Errorf("Check(hardened) = %v, want nothing", ids(got))
	}
	if got := Check(hardened(), nil); len(got) != 0 {
		t.Errorf("Check(hardened, nil inventory) = %v, want nothing", ids(got))
	}
}

func TestChecks(t *testing.T) {
	const passwdMode = uint32(fs.ModeSetuid | 0o755)
	tests := []struct {
		name     string
		edit     func(*inventory.Image, *inventory.Inventory)
		want     string   // the one failed check
		evidence []string // its evidence, if set
	}{
		{"no user", func(i *inventory.Image, _ *inventory.Inventory) { i.Config.User = "" }, IDRootUser,
			[]string{"config.User is not set: processes run as root (UID 0)"}},
		{"user root", func(i *inventory.Image, _ *inventory.Inventory) { i.Config.User = "root" }, IDRootUser, []string{`config.User is "root"`}},
		{"user 0:0", func(i *inventory.Image, _ *inventory.Inventory) { i.Config.User = "0:0" }, IDRootUser, nil},
		{"no healthcheck", func(i *inventory.Image, _ *inventory.Inventory) { i.Config.Healthcheck = nil }, IDNoHealthcheck, nil},
		{"healthcheck none", func(i *inventory.Image, _ *inventory.Inventory) { i.Config.Healthcheck = []string{"NONE"} }, IDNoHealthcheck,
			[]string{"HEALTHCHECK NONE disables the health check"}},
		{"apt-get update alone", func(i *inventory.Image, _ *inventory.Inventory) {
			i.History = append(i.History, inventory.History{CreatedBy: "/bin/sh -c apt-get update", LayerIndex: 5})
		}, IDUpdateAlone, []string{"history step 8: /bin/sh -c apt-get update"}},
		{"apk update alone (buildkit)", func(i *inventory.Image, _ *inventory.Inventory) {
			i.History = append(i.History, inventory.History{CreatedBy: "RUN /bin/sh -c apk update # buildkit", LayerIndex: 5})
		}, IDUpdateAlone, nil},
		{"update alone with a build argument", func(i *inventory.Image, _ *inventory.Inventory) {
			i.History = append(i.History, inventory.History{CreatedBy: "|1 MIRROR=http://deb.internal /bin/sh -c apt-get -q update", LayerIndex: 5})
		}, IDUpdateAlone, []string{"history step 8: |1 MIRROR=http://deb.internal /bin/sh -c apt-get -q update"}},
		{"setuid", func(_ *inventory.Image, inv *inventory.Inventory) {
			inv.Facts.Setuid = []inventory.FileFact{
				{Path: "/usr/bin/passwd", Mode: passwdMode, LayerIndex: 0},
				{Path: "/usr/bin/expiry", Mode: uint32(fs.ModeSetgid | 0o755), LayerIndex: 1},
			}
			inv.Packages = append(inv.Packages, inventory.Package{Name: "passwd", Version: "1:4.13+dfsg1-1", Ecosystem: inventory.EcoDpkg, Files: []string{"/usr/bin/passwd", "/bin/su"}})
		}, IDSetuid, []string{
			"/usr/bin/expiry (setgid, -rwxr-sr-x, layer 1)",
			"/usr/bin/passwd (setuid, -rwsr-xr-x, layer 0, package passwd 1:4.13+dfsg1-1)",
		}},
		{"setuid before the /usr merge", func(_ *inventory.Image, inv *inventory.Inventory) {
			inv.Facts.Setuid = []inventory.FileFact{{Path: "/usr/bin/su", Mode: passwdMode}}
			inv.Packages = append(inv.Packages, inventory.Package{Name: "util-linux", Version: "2.38.1-5", Ecosystem: inventory.EcoDpkg, Files: []string{"/bin/su"}})
		}, IDSetuid, []string{"/usr/bin/su (setuid, -rwsr-xr-x, layer 0, package util-linux 2.38.1-5)"}},
		{"add url", func(i *inventory.Image, _ *inventory.Inventory) {
			i.History = append(i.History, inventory.History{CreatedBy: "ADD https://example.org/app.jar /app/app.jar # buildkit", LayerIndex: 5})
		}, IDAddRemote, []string{"history step 8: ADD https://example.org/app.jar /app/app.jar # buildkit"}},
		{"add git", func(i *inventory.Image, _ *inventory.Inventory) {
			i.History = append(i.History, inventory.History{CreatedBy: "ADD git@github.com:acme/app.git /src # buildkit", LayerIndex: 5})
		}, IDAddRemote, nil},
		{"add local file", func(i *inventory.Image, _ *inventory.Inventory) {
			i.History = append(i.History, inventory.History{CreatedBy: `ADD ["config.yaml", "/etc/app/"] # buildkit`, LayerIndex: 5})
		}, IDAddLocal, nil},
		{"add classic file in a later layer", func(i *inventory.Image, _ *inventory.Inventory) {
			i.History = append(i.History, inventory.History{CreatedBy: "/bin/sh -c #(nop) ADD dir:0a5e8c26e3e8e0b51bc9c3f3e8dbd6f1b6a0f4a33b1e1b7d7fdd1b8b46ac7e0f in /app ", LayerIndex: 5})
		}, IDAddLocal, []string{"history step 8: /bin/sh -c #(nop) ADD dir:0a5e8c26e3e8e0b51bc9c3f3e8dbd6f1b6a0f4a33b1e1b7d7fdd1b8b46ac7e0f in /app (the classic builder records local sources by hash: an archive cannot be told apart)"}},
		{"secret in env", func(i *inventory.Image, _ *inventory.Inventory) {
			i.Config.Env = append(i.Config.Env, "DB_PASSWORD=Sup3rS3cret!2024")
		}, IDSecretInConfig, nil},
		{"secrets in the command line and health check", func(i *inventory.Image, _ *inventory.Inventory) {
			i.Config.Entrypoint = []string{"/usr/bin/sshpass", "-p", "Qm4Zt8Rw", "/app/server"}
			i.Config.Cmd = []string{"--api-key", "Ak7Pq2Wz9Lx4", "--config", "/etc/app.yaml"}
			i.Config.Healthcheck = []string{"CMD-SHELL", "redis-cli -a Rd5x9Qw ping || exit 1"}
		}, IDSecretInConfig, []string{
			"ENTRYPOINT: /usr/bin/sshpass -p ***** /app/server [sshpass-password]",
			"CMD: --api-key Ak7P***** --config /etc/app.yaml [secret-command-argument]",
			"HEALTHCHECK: CMD-SHELL redis-cli -a ***** ping || exit 1 [secret-command-argument]",
		}},
		{"expose 22", func(i *inventory.Image, _ *inventory.Inventory) {
			i.Config.ExposedPorts = append(i.Config.ExposedPorts, "22/tcp")
		}, IDSSH, []string{"EXPOSE 22/tcp"}},
		{"openssh-server", func(_ *inventory.Image, inv *inventory.Inventory) {
			inv.Packages = append(inv.Packages, inventory.Package{Name: "openssh-server", Version: "1:9.2p1-2+deb12u3", Ecosystem: inventory.EcoDpkg})
		}, IDSSH, []string{"package openssh-server 1:9.2p1-2+deb12u3 (dpkg)"}},
		{"alpine openssh", func(_ *inventory.Image, inv *inventory.Inventory) {
			inv.Packages = append(inv.Packages, inventory.Package{Name: "openssh", Version: "9.0_p1-r5", Ecosystem: inventory.EcoAPK})
		}, IDSSH, nil},
		{"dropbear", func(_ *inventory.Image, inv *inventory.Inventory) {
			inv.Packages = append(inv.Packages, inventory.Package{Name: "dropbear", Version: "2022.83-r0", Ecosystem: inventory.EcoAPK})
		}, IDSSH, nil},
		{"caches", func(_ *inventory.Image, inv *inventory.Inventory) {
			inv.Facts.CacheBytes = map[string]int64{"/var/lib/apt/lists": 42_000_000, "/var/cache/apt": 31_000_000, "/root/.npm": 0}
		}, IDPackageCache, []string{"/var/lib/apt/lists: 42 MB", "/var/cache/apt: 31 MB"}},
		{"world-writable", func(_ *inventory.Image, inv *inventory.Inventory) {
			inv.Facts.WorldWritable = []inventory.FileFact{{Path: "/app/config.json", Mode: 0o666, LayerIndex: 2}}
		}, IDWorldWritable, []string{"/app/config.json (-rw-rw-rw-, layer 2)"}},
		{"sudo", func(_ *inventory.Image, inv *inventory.Inventory) {
			inv.Packages = append(inv.Packages, inventory.Package{Name: "sudo", Version: "1.9.13p3-1+deb12u1", Ecosystem: inventory.EcoDpkg})
		}, IDSudo, []string{"package sudo 1.9.13p3-1+deb12u1 (dpkg)"}},
		{"sudo as a language package is not sudo", func(_ *inventory.Image, inv *inventory.Inventory) {
			inv.Packages = append(inv.Packages, inventory.Package{Name: "sudo", Version: "1.0.0", Ecosystem: inventory.EcoNPM})
		}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := hardened()
			inv := &inventory.Inventory{}
			tt.edit(&img, inv)
			got := Check(img, inv)
			var want []string
			if tt.want != "" {
				want = []string{tt.want}
			}
			if diff := cmp.Diff(want, ids(got)); diff != "" {
				t.Fatalf("failed checks (-want +got):\n%s", diff)
			}
			if tt.want == "" {
				return
			}
			m := got[0]
			if m.Title == "" || m.Severity == "" || m.Description == "" || m.Fix == "" || len(m.Evidence) == 0 {
				t.Errorf("incomplete: %+v", m)
			}
			if tt.evidence != nil {
				if diff := cmp.Diff(tt.evidence, m.Evidence); diff != "" {
					t.Errorf("evidence (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestSecretsRedacted: history commands and secrets quoted as evidence are
// redacted.
func TestSecretsRedacted(t *testing.T) {
	token := "npm_" + strings.Repeat("aB3x", 9)
	img := hardened()
	img.History = append(img.History,
		inventory.History{CreatedBy: "|1 NPM_TOKEN=" + token + " /bin/sh -c apt-get update", LayerIndex: 5},
		inventory.History{CreatedBy: "ADD https://user:" + token + "@example.org/a.tgz /tmp/ # buildkit", LayerIndex: 6},
	)
	img.Config.Env = []string{"NPM_TOKEN=" + token}
	got := Check(img, nil)
	if diff := cmp.Diff([]string{IDUpdateAlone, IDAddRemote, IDSecretInConfig}, ids(got)); diff != "" {
		t.Fatalf("failed checks (-want +got):\n%s", diff)
	}
	for _, m := range got {
		for _, e := range m.Evidence {
			if strings.Contains(e, token) {
				t.Errorf("%s: evidence holds the token whole: %q", m.ID, strings.ReplaceAll(e, token, "<token>"))
			}
		}
	}
	want := []string{
		"ENV: NPM_TOKEN=npm_***** [npm-access-token]",
		"history (layer 5): |1 NPM_TOKEN=npm_***** /bin/sh -c apt-get update [npm-access-token]",
		"history (layer 6): ADD https://user:npm_*****@example.org/a.tgz /tmp/ # buildkit [npm-access-token]",
	}
	if diff := cmp.Diff(want, find(got, IDSecretInConfig).Evidence); diff != "" {
		t.Errorf("DD-IMG-007 evidence (-want +got):\n%s", diff)
	}
}

func TestEvidenceCapped(t *testing.T) {
	inv := &inventory.Inventory{}
	for i := range 60 {
		inv.Facts.WorldWritable = append(inv.Facts.WorldWritable, inventory.FileFact{Path: "/data/f" + string(rune('a'+i%26)) + strings.Repeat("x", i), Mode: 0o666})
	}
	m := find(Check(hardened(), inv), IDWorldWritable)
	if m == nil || len(m.Evidence) != maxEvidence+1 || m.Evidence[maxEvidence] != "… and 10 more" {
		t.Errorf("evidence not capped: %d lines", len(m.Evidence))
	}
}

func TestRunCommand(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"/bin/sh -c apt-get update", "apt-get update", true},
		{"RUN /bin/sh -c apk update # buildkit", "apk update", true},
		{"|2 A=1 B=2 /bin/sh -c make", "make", true},
		{"RUN |1 A=1 /bin/sh -c make # buildkit", "make", true},
		{"/bin/sh -c #(nop)  ENV A=1", "", false},
		{"COPY . /app # buildkit", "", false},
		{"ENV PATH=/usr/bin", "", false},
		{"", "", false},
	} {
		got, ok := runCommand(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("runCommand(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// alpineRootfs is the real Alpine 3.16.9 minirootfs of the shared test data.
var alpineRootfs = filepath.Join("..", "..", "..", "shared", "data", "rootfs", "alpine-minirootfs-3.16.9-x86_64.tar.gz")

// cacheDirs mirrors the package-manager cache directories whose sizes the
// layer walk records (internal/scan).
var cacheDirs = []string{"/var/lib/apt/lists", "/var/cache/apt", "/var/cache/apk", "/var/cache/yum", "/var/cache/dnf", "/root/.cache/pip", "/root/.npm"}

// rootfsInventory reads a root filesystem tarball the way a scan does: the
// facts from the tar headers, the packages from the apk database.
func rootfsInventory(t *testing.T, p string) *inventory.Inventory {
	t.Helper()
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) && os.Getenv("CI") == "" {
		t.Skipf("%s not present (CI unset)", p)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	inv := &inventory.Inventory{}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeLink {
			continue
		}
		name := path.Clean("/" + hdr.Name)
		mode := hdr.FileInfo().Mode()
		if mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			inv.Facts.Setuid = append(inv.Facts.Setuid, inventory.FileFact{Path: name, Mode: uint32(mode)})
		}
		if mode.Perm()&0o002 != 0 && mode&fs.ModeSticky == 0 && !strings.HasPrefix(name, "/tmp/") && !strings.HasPrefix(name, "/var/tmp/") {
			inv.Facts.WorldWritable = append(inv.Facts.WorldWritable, inventory.FileFact{Path: name, Mode: uint32(mode)})
		}
		for _, d := range cacheDirs {
			if strings.HasPrefix(name, d+"/") {
				if inv.Facts.CacheBytes == nil {
					inv.Facts.CacheBytes = map[string]int64{}
				}
				inv.Facts.CacheBytes[d] += hdr.Size
			}
		}
		if name == "/lib/apk/db/installed" {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			pkgs, err := apk.Parse(context.Background(), bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			for i := range pkgs {
				pkgs[i].Ecosystem = inventory.EcoAPK
			}
			inv.Packages = pkgs
		}
	}
	if len(inv.Packages) != 14 {
		t.Fatalf("read %d apk packages from %s, want 14", len(inv.Packages), p)
	}
	return inv
}

// TestAlpineMinirootfs checks the official Alpine 3.16.9 minirootfs as the
// single layer of an image with the configuration docker gives it (Cmd
// /bin/sh, no USER, no HEALTHCHECK). It has no setuid files (busybox is
// installed 0755; bbsuid is not part of the minirootfs), no world-writable
// files, empty caches, no SSH server and no sudo: exactly root and no
// health check fail.
func TestAlpineMinirootfs(t *testing.T) {
	inv := rootfsInventory(t, alpineRootfs)
	img := inventory.Image{
		Config: inventory.ImageConfig{
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd: []string{"/bin/sh"},
		},
		History: []inventory.History{
			{CreatedBy: "/bin/sh -c #(nop) ADD file:7c9ee7e4e6ab83e0c7e5b0a1e0b6e1bbce1d4f5e4c0a9c3f9c4b6b1e2d8a3f7a in / ", LayerIndex: 0},
			{CreatedBy: `/bin/sh -c #(nop)  CMD ["/bin/sh"]`, EmptyLayer: true, LayerIndex: -1},
		},
	}
	got := Check(img, inv)
	if diff := cmp.Diff([]string{IDRootUser, IDNoHealthcheck}, ids(got)); diff != "" {
		t.Errorf("failed checks (-want +got):\n%s", diff)
	}
	if len(inv.Facts.Setuid) != 0 || len(inv.Facts.WorldWritable) != 0 {
		t.Errorf("facts: %+v", inv.Facts)
	}
	// The same image built by BuildKit from the official Dockerfile.
	img.History = []inventory.History{
		{CreatedBy: "ADD alpine-minirootfs-3.16.9-x86_64.tar.gz / # buildkit", LayerIndex: 0},
		{CreatedBy: `CMD ["/bin/sh"]`, EmptyLayer: true, LayerIndex: -1},
	}
	if diff := cmp.Diff([]string{IDRootUser, IDNoHealthcheck}, ids(Check(img, inv))); diff != "" {
		t.Errorf("BuildKit history: failed checks (-want +got):\n%s", diff)
	}
}

// TestDebianMinbase checks a Debian bookworm minbase root filesystem made
// by debootstrap ($DRYDOCK_DEBOOTSTRAP_ROOTFS, see docs/secrets.md) as a
// one-layer image: root, no health check, the distribution's setuid
// programs (informational) and the apt caches debootstrap leaves.
func TestDebianMinbase(t *testing.T) {
	root := os.Getenv("DRYDOCK_DEBOOTSTRAP_ROOTFS")
	if root == "" {
		t.Skip("DRYDOCK_DEBOOTSTRAP_ROOTFS not set")
	}
	inv := &inventory.Inventory{Facts: inventory.Facts{CacheBytes: map[string]int64{}}}
	err := filepath.WalkDir(root, func(fp string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, fp)
		name := "/" + filepath.ToSlash(rel)
		mode := info.Mode()
		if mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			inv.Facts.Setuid = append(inv.Facts.Setuid, inventory.FileFact{Path: name, Mode: uint32(mode)})
		}
		if mode.Perm()&0o002 != 0 && mode&fs.ModeSticky == 0 && !strings.HasPrefix(name, "/tmp/") && !strings.HasPrefix(name, "/var/tmp/") {
			inv.Facts.WorldWritable = append(inv.Facts.WorldWritable, inventory.FileFact{Path: name, Mode: uint32(mode)})
		}
		for _, d := range cacheDirs {
			if strings.HasPrefix(name, d+"/") {
				inv.Facts.CacheBytes[d] += info.Size()
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	img := inventory.Image{Config: inventory.ImageConfig{Cmd: []string{"bash"}},
		History: []inventory.History{{CreatedBy: "# debian.sh --arch 'amd64' out/ 'bookworm' '@1763942400'", LayerIndex: 0}}}
	got := Check(img, inv)
	if diff := cmp.Diff([]string{IDRootUser, IDNoHealthcheck, IDSetuid, IDPackageCache}, ids(got)); diff != "" {
		t.Errorf("failed checks (-want +got):\n%s", diff)
	}
	ev := strings.Join(find(got, IDSetuid).Evidence, "\n")
	for _, p := range []string{"/usr/bin/passwd (setuid", "/usr/bin/su (setuid", "/usr/bin/mount (setuid", "/usr/bin/expiry (setgid"} {
		if !strings.Contains(ev, p) {
			t.Errorf("setuid evidence lacks %s:\n%s", p, ev)
		}
	}
	t.Logf("setuid:\n%s\ncaches: %v", ev, find(got, IDPackageCache).Evidence)
}
