// Package misconfig checks an image's configuration, history and filesystem
// facts against container hardening guidance: the CIS Docker Benchmark
// (section 4, "Container Images and Build File Configuration", and 5.6)
// where it has a recommendation.
//
// Check is a pure function of the image metadata and the merged inventory:
// no file is read. The checks, their severities and the reasons for them are
// documented in docs/misconfig.md.
package misconfig

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/secret"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// Check IDs. They are stable: policies and ignore files refer to them.
const (
	IDRootUser       = "DD-IMG-001"
	IDNoHealthcheck  = "DD-IMG-002"
	IDUpdateAlone    = "DD-IMG-003"
	IDSetuid         = "DD-IMG-004"
	IDAddRemote      = "DD-IMG-005"
	IDAddLocal       = "DD-IMG-006"
	IDSecretInConfig = "DD-IMG-007"
	IDSSH            = "DD-IMG-008"
	IDPackageCache   = "DD-IMG-009"
	IDWorldWritable  = "DD-IMG-010"
	IDSudo           = "DD-IMG-011"
)

// Limits.
const (
	// maxEvidence lines are listed per check; the rest are counted.
	maxEvidence = 50
	// maxCommand bytes of a (redacted) history command are quoted.
	maxCommand = 160
	// CacheThreshold: package-manager caches smaller than this in total are
	// not reported (empty directories and lock files are normal).
	CacheThreshold = 1 << 20
)

// checker holds one image's inputs.
type checker struct {
	img      inventory.Image
	inv      *inventory.Inventory
	redactor *secret.Scanner // nil: history commands are not quoted
	owners   map[string]string
}

// Check runs every check and returns the failed ones, sorted by ID. inv may
// be nil (configuration-only scans): the checks that need packages or
// filesystem facts then find nothing.
func Check(img inventory.Image, inv *inventory.Inventory) []finding.Misconfig {
	c := &checker{img: img, inv: inv}
	if inv == nil {
		c.inv = &inventory.Inventory{}
	}
	if s, err := secret.Default(); err == nil {
		c.redactor = s
	}
	var out []finding.Misconfig
	for _, f := range []func() *finding.Misconfig{
		c.rootUser, c.healthcheck, c.updateAlone, c.setuid, c.addRemote, c.addLocal,
		c.secrets, c.ssh, c.caches, c.worldWritable, c.sudo,
	} {
		if m := f(); m != nil {
			out = append(out, *m)
		}
	}
	slices.SortStableFunc(out, func(a, b finding.Misconfig) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// DD-IMG-001: the image runs as root.
func (c *checker) rootUser() *finding.Misconfig {
	u := c.img.Config.User
	user, _, _ := strings.Cut(u, ":")
	var ev string
	switch {
	case u == "":
		ev = "config.User is not set: processes run as root (UID 0)"
	case user == "root" || user == "0":
		ev = fmt.Sprintf("config.User is %q", u)
	default:
		return nil
	}
	return &finding.Misconfig{
		ID: IDRootUser, Title: "Image runs as root", Severity: vocab.SevHigh, CIS: "4.1",
		Description: "No USER instruction sets an unprivileged user, so the container's processes run as root. " +
			"A process that escapes the container, or abuses a mounted volume or socket, does so with root privileges.",
		Evidence: []string{ev},
		Fix: "Create an unprivileged user and switch to it at the end of the Dockerfile, e.g. " +
			"`RUN useradd --system --uid 10001 app` (Alpine: `adduser -S -u 10001 app`) and `USER 10001`.",
	}
}

// DD-IMG-002: no health check.
func (c *checker) healthcheck() *finding.Misconfig {
	hc := c.img.Config.Healthcheck
	var ev string
	switch {
	case len(hc) == 0:
		ev = "config.Healthcheck is not set"
	case hc[0] == "NONE":
		ev = "HEALTHCHECK NONE disables the health check"
	default:
		return nil
	}
	return &finding.Misconfig{
		ID: IDNoHealthcheck, Title: "No HEALTHCHECK instruction", Severity: vocab.SevLow, CIS: "4.6",
		Description: "Without a health check the runtime only knows whether the process is alive, not whether it works; " +
			"a hung service keeps receiving traffic.",
		Evidence: []string{ev},
		Fix:      "Add a HEALTHCHECK, e.g. `HEALTHCHECK --interval=30s CMD wget -qO- http://localhost:8080/health || exit 1`, or rely on the orchestrator's probes and ignore this check.",
	}
}

var (
	// reUpdate matches a package index refresh.
	reUpdate = regexp.MustCompile(`\b(?:apt-get|apt|aptitude)\s+(?:-\S+\s+)*update\b|\bapk\s+(?:-\S+\s+)*update\b|\b(?:yum|dnf|microdnf|tdnf)\s+(?:-\S+\s+)*(?:makecache|check-update)\b|\bzypper\s+(?:-\S+\s+)*(?:refresh|ref)\b`)
	// reInstall matches a package installation or upgrade.
	reInstall = regexp.MustCompile(`\b(?:apt-get|apt|aptitude)\s+(?:\S+\s+)*?(?:install|upgrade|dist-upgrade|full-upgrade|build-dep|reinstall)\b|\bapk\s+(?:\S+\s+)*?(?:add|upgrade|fix)\b|\b(?:yum|dnf|microdnf|tdnf)\s+(?:\S+\s+)*?(?:install|upgrade|update|reinstall|groupinstall)\b|\bzypper\s+(?:\S+\s+)*?(?:install|in|update|up|dist-upgrade|dup|patch)\b`)
)

// DD-IMG-003: a RUN step refreshes the package index without installing.
func (c *checker) updateAlone() *finding.Misconfig {
	var ev []string
	for i, h := range c.img.History {
		cmd, ok := runCommand(h.CreatedBy)
		if !ok || !reUpdate.MatchString(cmd) || reInstall.MatchString(cmd) {
			continue
		}
		ev = append(ev, fmt.Sprintf("history step %d: %s", i+1, c.quote(h.CreatedBy)))
	}
	if len(ev) == 0 {
		return nil
	}
	return &finding.Misconfig{
		ID: IDUpdateAlone, Title: "Package index updated in a step without installing", Severity: vocab.SevMedium, CIS: "4.7",
		Description: "A RUN step refreshes the package index (apt-get update, apk update…) but installs nothing. The build cache keeps " +
			"that layer, so later steps install from a stale index and miss security updates; the index also stays in the image.",
		Evidence: capEvidence(ev),
		Fix:      "Update and install in the same RUN step and clean up: `RUN apt-get update && apt-get install -y --no-install-recommends pkg && rm -rf /var/lib/apt/lists/*` (Alpine: `apk add --no-cache pkg`).",
	}
}

// runCommand returns the shell command of a RUN history entry, without the
// builder's decorations ("RUN", "|N k=v" build arguments, "/bin/sh -c",
// "# buildkit"); ok is false for other instructions.
func runCommand(createdBy string) (string, bool) {
	s := strings.TrimSpace(createdBy)
	s = strings.TrimPrefix(s, "RUN ")
	s = strings.TrimSpace(strings.TrimSuffix(s, "# buildkit"))
	if strings.HasPrefix(s, "|") { // |N k=v … command
		n := 0
		if _, err := fmt.Sscanf(s, "|%d", &n); err == nil {
			fields := strings.SplitN(s, " ", n+2)
			if len(fields) == n+2 {
				s = fields[n+1]
			}
		}
	}
	for _, sh := range []string{"/bin/sh -c ", "/bin/bash -c ", "/bin/ash -c ", "sh -c "} {
		if rest, ok := strings.CutPrefix(s, sh); ok {
			s = rest
			break
		}
	}
	if strings.HasPrefix(strings.TrimSpace(s), "#(nop)") {
		return "", false
	}
	for _, instr := range []string{"ADD ", "COPY ", "ENV ", "ARG ", "LABEL ", "USER ", "WORKDIR ", "EXPOSE ", "CMD ", "ENTRYPOINT ", "HEALTHCHECK ", "VOLUME ", "SHELL ", "STOPSIGNAL ", "ONBUILD ", "MAINTAINER "} {
		if strings.HasPrefix(s, instr) {
			return "", false
		}
	}
	return s, s != ""
}

// DD-IMG-004: setuid and setgid files.
func (c *checker) setuid() *finding.Misconfig {
	facts := slices.Clone(c.inv.Facts.Setuid)
	if len(facts) == 0 {
		return nil
	}
	slices.SortFunc(facts, func(a, b inventory.FileFact) int { return cmp.Compare(a.Path, b.Path) })
	var ev []string
	for _, f := range facts {
		mode := fs.FileMode(f.Mode)
		var bits []string
		if mode&fs.ModeSetuid != 0 {
			bits = append(bits, "setuid")
		}
		if mode&fs.ModeSetgid != 0 {
			bits = append(bits, "setgid")
		}
		line := fmt.Sprintf("%s (%s, %s, layer %d", f.Path, strings.Join(bits, "+"), lsMode(mode), f.LayerIndex)
		if pkg := c.owner(f.Path); pkg != "" {
			line += ", package " + pkg
		}
		ev = append(ev, line+")")
	}
	return &finding.Misconfig{
		ID: IDSetuid, Title: "Setuid or setgid files", Severity: vocab.SevLow, CIS: "4.8",
		Description: fmt.Sprintf("%d file(s) run with the privileges of their owner or group whatever the calling user. "+
			"Distributions ship several (su, passwd, mount…); in a container they are rarely needed and are a path "+
			"to privilege escalation for a non-root user. Reported for information: the list includes distribution defaults.", len(facts)),
		Evidence: capEvidence(ev),
		Fix:      "Remove the bits unless a program needs them: `RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +` (and run as a non-root user).",
	}
}

// lsMode renders a file mode like ls -l: "-rwsr-xr-x".
func lsMode(m fs.FileMode) string {
	b := []byte("-rwxrwxrwx")
	for i := range 9 {
		if m&(1<<(8-i)) == 0 {
			b[i+1] = '-'
		}
	}
	set := func(i int, on bool) {
		if !on {
			return
		}
		if b[i] == 'x' {
			b[i] = 's'
		} else {
			b[i] = 'S'
		}
	}
	set(3, m&fs.ModeSetuid != 0)
	set(6, m&fs.ModeSetgid != 0)
	if m&fs.ModeSticky != 0 {
		if b[9] == 'x' {
			b[9] = 't'
		} else {
			b[9] = 'T'
		}
	}
	return string(b)
}

// owner returns "name version" of the OS package that owns path, or "".
// Package file lists may predate the /usr merge (/bin/su for /usr/bin/su).
func (c *checker) owner(path string) string {
	if c.owners == nil {
		c.owners = map[string]string{}
		for i := range c.inv.Packages {
			p := &c.inv.Packages[i]
			if !inventory.IsOS(p.Ecosystem) {
				continue
			}
			for _, f := range p.Files {
				if _, ok := c.owners[f]; !ok {
					c.owners[f] = p.Name + " " + p.Version
				}
			}
		}
	}
	if o, ok := c.owners[path]; ok {
		return o
	}
	if rest, ok := strings.CutPrefix(path, "/usr"); ok {
		return c.owners[rest]
	}
	return c.owners["/usr"+path]
}

// addStep is an ADD instruction of the history.
type addStep struct {
	step     int // 1-based history position
	layer    int
	sources  []string
	dest     string
	checksum bool
	raw      string
}

// adds returns the history's ADD steps, except the base image's root
// filesystem (an ADD to "/" that produced layer 0).
func (c *checker) adds() []addStep {
	var out []addStep
	for i, h := range c.img.History {
		a, ok := parseAdd(h.CreatedBy)
		if !ok {
			continue
		}
		if h.LayerIndex == 0 && (a.dest == "/" || a.dest == "/.") {
			continue
		}
		a.step, a.layer, a.raw = i+1, h.LayerIndex, h.CreatedBy
		out = append(out, a)
	}
	return out
}

// parseAdd reads "ADD [--flags] src… dest" in the forms the classic builder
// ("/bin/sh -c #(nop) ADD file:<hash> in /dest") and BuildKit
// ("ADD src dest # buildkit", or the JSON array form) record.
func parseAdd(createdBy string) (addStep, bool) {
	s := strings.TrimSpace(createdBy)
	s = strings.TrimPrefix(s, "/bin/sh -c ")
	s = strings.TrimSpace(strings.TrimPrefix(s, "#(nop)"))
	rest, ok := strings.CutPrefix(s, "ADD ")
	if !ok {
		return addStep{}, false
	}
	rest = strings.TrimSpace(strings.TrimSuffix(rest, "# buildkit"))
	var a addStep
	// Classic builder: "file:<hash> in <dest>".
	if src, dest, ok := strings.Cut(rest, " in "); ok && (strings.HasPrefix(src, "file:") || strings.HasPrefix(src, "dir:") || strings.HasPrefix(src, "multi:")) {
		a.sources, a.dest = []string{src}, strings.TrimSpace(dest)
		return a, true
	}
	var words []string
	fields := strings.Fields(rest)
	for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
		if strings.HasPrefix(fields[0], "--checksum") {
			a.checksum = true
		}
		fields = fields[1:]
	}
	joined := strings.Join(fields, " ")
	if strings.HasPrefix(joined, "[") {
		if err := json.Unmarshal([]byte(joined), &words); err != nil {
			words = fields
		}
	} else {
		words = fields
	}
	if len(words) < 2 {
		return addStep{}, false
	}
	a.sources, a.dest = words[:len(words)-1], words[len(words)-1]
	return a, true
}

func isRemote(src string) bool {
	l := strings.ToLower(src)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "ftp://") ||
		strings.HasPrefix(l, "git@") || strings.HasPrefix(l, "git://") || strings.HasSuffix(l, ".git")
}

// isArchive reports whether ADD would extract a local source.
func isArchive(src string) bool {
	l := strings.ToLower(src)
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tbz", ".tar.zst", ".tzst", ".tar.lz4"} {
		if strings.HasSuffix(l, ext) {
			return true
		}
	}
	return false
}

// DD-IMG-005: ADD downloads a remote file without a checksum.
func (c *checker) addRemote() *finding.Misconfig {
	var ev []string
	for _, a := range c.adds() {
		if a.checksum {
			continue // ADD --checksum verifies the download
		}
		for _, s := range a.sources {
			if isRemote(s) {
				ev = append(ev, fmt.Sprintf("history step %d: %s", a.step, c.quote(a.raw)))
				break
			}
		}
	}
	if len(ev) == 0 {
		return nil
	}
	return &finding.Misconfig{
		ID: IDAddRemote, Title: "ADD fetches a remote URL without a checksum", Severity: vocab.SevMedium, CIS: "4.9",
		Description: "ADD downloads the URL at build time and puts whatever the server returns into the image, unverified " +
			"(and extracts nothing: the file is kept as is).",
		Evidence: capEvidence(ev),
		Fix:      "Download in a RUN step and verify a pinned checksum (`curl -fsSLo f URL && echo \"SHA256  f\" | sha256sum -c`), or use `ADD --checksum=sha256:<digest> URL dest`.",
	}
}

// DD-IMG-006: ADD copies local files where COPY would do.
func (c *checker) addLocal() *finding.Misconfig {
	var ev []string
	for _, a := range c.adds() {
		remote, archives, plain := false, 0, 0
		for _, s := range a.sources {
			switch {
			case isRemote(s):
				remote = true
			case isArchive(s):
				archives++
			default:
				plain++
			}
		}
		if remote || plain == 0 {
			continue // remote (DD-IMG-005) or only archives: ADD's own job
		}
		note := ""
		if len(a.sources) == 1 && (strings.HasPrefix(a.sources[0], "file:") || strings.HasPrefix(a.sources[0], "dir:") || strings.HasPrefix(a.sources[0], "multi:")) {
			note = " (the classic builder records local sources by hash: an archive cannot be told apart)"
		}
		ev = append(ev, fmt.Sprintf("history step %d: %s%s", a.step, c.quote(a.raw), note))
	}
	if len(ev) == 0 {
		return nil
	}
	return &finding.Misconfig{
		ID: IDAddLocal, Title: "ADD used where COPY serves", Severity: vocab.SevLow, CIS: "4.9",
		Description: "ADD copies local files like COPY but also extracts archives and fetches URLs; using it for plain files " +
			"hides those side effects (a file that happens to be an archive gets unpacked).",
		Evidence: capEvidence(ev),
		Fix:      "Use COPY for local files and directories; keep ADD for archives that must be extracted.",
	}
}

// DD-IMG-007: secrets in ENV, ARG, LABEL, ENTRYPOINT, CMD, HEALTHCHECK or
// build arguments.
func (c *checker) secrets() *finding.Misconfig {
	var found []finding.Secret
	if c.redactor != nil {
		found = c.redactor.ScanImage(c.img)
	}
	var ev []string
	for _, s := range found {
		where := map[string]string{
			secret.SourceEnv: "ENV", secret.SourceLabel: "LABEL", secret.SourceEntrypoint: "ENTRYPOINT",
			secret.SourceCmd: "CMD", secret.SourceHealthcheck: "HEALTHCHECK",
		}[s.Source]
		if where == "" {
			where = "history"
			if s.LayerIndex >= 0 {
				where = fmt.Sprintf("history (layer %d)", s.LayerIndex)
			}
		}
		ev = append(ev, fmt.Sprintf("%s: %s [%s]", where, s.Match, s.RuleID))
	}
	if len(ev) == 0 {
		return nil
	}
	return &finding.Misconfig{
		ID: IDSecretInConfig, Title: "Secrets in the image configuration or build history", Severity: vocab.SevHigh, CIS: "4.10",
		Description: "Values of ENV, ARG, LABEL and build arguments, and the arguments of ENTRYPOINT, CMD and HEALTHCHECK, are stored in the image configuration and history: " +
			"anyone who can pull the image can read them with `docker history` or `docker inspect`.",
		Evidence: capEvidence(ev),
		Fix:      "Pass secrets at build time with BuildKit secret mounts (`RUN --mount=type=secret,id=npm …`) and at run time through the orchestrator's secrets; rotate any secret already published.",
	}
}

// sshServers are packages that provide an SSH server; "openssh" is the
// server only on Alpine (on RPM distributions it holds the common files).
var sshServers = map[string]bool{"openssh-server": true, "openssh-server-pam": true, "dropbear": true, "dropbear-bin": true, "tinysshd": true}

// DD-IMG-008: an SSH server is installed or port 22 exposed.
func (c *checker) ssh() *finding.Misconfig {
	var ev []string
	for _, p := range c.img.Config.ExposedPorts {
		if p == "22" || p == "22/tcp" {
			ev = append(ev, "EXPOSE "+p)
		}
	}
	for _, p := range c.osPackages() {
		if sshServers[p.Name] || (p.Name == "openssh" && p.Ecosystem == inventory.EcoAPK) {
			ev = append(ev, fmt.Sprintf("package %s %s (%s)", p.Name, p.Version, p.Ecosystem))
		}
	}
	if len(ev) == 0 {
		return nil
	}
	return &finding.Misconfig{
		ID: IDSSH, Title: "SSH server in the image", Severity: vocab.SevMedium, CIS: "5.6",
		Description: "An SSH daemon in a container is another network service with its own keys, passwords and updates to manage; " +
			"`docker exec` / `kubectl exec` give shell access without it.",
		Evidence: ev,
		Fix:      "Remove the SSH server package and the EXPOSE 22; use the runtime's exec for debugging.",
	}
}

// DD-IMG-009: package-manager caches left in the image.
func (c *checker) caches() *finding.Misconfig {
	var total int64
	dirs := make([]string, 0, len(c.inv.Facts.CacheBytes))
	for d, n := range c.inv.Facts.CacheBytes {
		total += n
		if n > 0 {
			dirs = append(dirs, d)
		}
	}
	if total < CacheThreshold {
		return nil
	}
	slices.SortFunc(dirs, func(a, b string) int {
		if x := cmp.Compare(c.inv.Facts.CacheBytes[b], c.inv.Facts.CacheBytes[a]); x != 0 {
			return x
		}
		return cmp.Compare(a, b)
	})
	var ev []string
	for _, d := range dirs {
		ev = append(ev, fmt.Sprintf("%s: %s", d, humanize.Bytes(uint64(c.inv.Facts.CacheBytes[d]))))
	}
	return &finding.Misconfig{
		ID: IDPackageCache, Title: "Package manager caches left in the image", Severity: vocab.SevLow,
		Description: fmt.Sprintf("%s of package indexes and downloaded packages ship with the image: a bigger image, and stale "+
			"indexes for anyone installing packages in it later.", humanize.Bytes(uint64(total))),
		Evidence: ev,
		Fix:      "Clean up in the same RUN step that installs: `rm -rf /var/lib/apt/lists/*` (apt), `apk add --no-cache` (apk), `dnf clean all` (dnf/yum), `pip install --no-cache-dir`, `npm cache clean --force`.",
	}
}

// DD-IMG-010: world-writable files.
func (c *checker) worldWritable() *finding.Misconfig {
	facts := slices.Clone(c.inv.Facts.WorldWritable)
	if len(facts) == 0 {
		return nil
	}
	slices.SortFunc(facts, func(a, b inventory.FileFact) int { return cmp.Compare(a.Path, b.Path) })
	var ev []string
	for _, f := range facts {
		ev = append(ev, fmt.Sprintf("%s (%s, layer %d)", f.Path, lsMode(fs.FileMode(f.Mode)), f.LayerIndex))
	}
	return &finding.Misconfig{
		ID: IDWorldWritable, Title: "World-writable files", Severity: vocab.SevMedium,
		Description: fmt.Sprintf("%d regular file(s) outside /tmp and /var/tmp can be modified by any user in the container: "+
			"a non-root process can tamper with programs or configuration other users run.", len(facts)),
		Evidence: capEvidence(ev),
		Fix:      "Remove write permission for others: `RUN chmod o-w <file>`; copy files with `COPY --chmod=644`.",
	}
}

// DD-IMG-011: sudo (or doas) installed.
func (c *checker) sudo() *finding.Misconfig {
	var ev []string
	for _, p := range c.osPackages() {
		if p.Name == "sudo" || p.Name == "sudo-rs" || p.Name == "doas" || p.Name == "opendoas" {
			ev = append(ev, fmt.Sprintf("package %s %s (%s)", p.Name, p.Version, p.Ecosystem))
		}
	}
	if len(ev) == 0 {
		return nil
	}
	return &finding.Misconfig{
		ID: IDSudo, Title: "sudo installed", Severity: vocab.SevLow, CIS: "4.3",
		Description: "sudo lets a process become root; in a container the user is chosen at build or run time, so sudo is " +
			"an unnecessary package and, with a permissive sudoers, a privilege escalation path.",
		Evidence: ev,
		Fix:      "Do the privileged work in RUN steps before USER, and remove sudo.",
	}
}

// osPackages returns the installed OS packages, sorted by name.
func (c *checker) osPackages() []inventory.Package {
	var out []inventory.Package
	for _, p := range c.inv.Packages {
		if inventory.IsOS(p.Ecosystem) {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b inventory.Package) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// quote returns a history command for evidence: secrets redacted, cut.
func (c *checker) quote(cmd string) string {
	cmd = strings.TrimSpace(cmd)
	if c.redactor == nil {
		return "(command not shown)"
	}
	cmd = c.redactor.RedactCommand(cmd)
	if len(cmd) > maxCommand {
		cut := maxCommand
		for cut > 0 && cmd[cut]&0xC0 == 0x80 {
			cut--
		}
		cmd = cmd[:cut] + "…"
	}
	return cmd
}

func capEvidence(ev []string) []string {
	if len(ev) <= maxEvidence {
		return ev
	}
	return append(ev[:maxEvidence:maxEvidence], fmt.Sprintf("… and %d more", len(ev)-maxEvidence))
}
