package main

// The dashboard's must-show test (issue 16): a real `drydock server` with
// its workers on PostgreSQL scans real test images pushed to Debian's
// docker-registry, and headless Chromium walks the dashboard: the login,
// the overview's counts against the API, "where are we exposed" to
// CVE-2023-4911 (exactly the AlmaLinux images), an image page's layers and
// findings, a filter and a sort that change the rows, a view restored from
// its URL, the keyboard, and no request to any other host (the browser kit
// fails the test on one). Screenshots are kept with -artifacts.

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drydock-scan/drydock/internal/browsertest"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
	"github.com/drydock-scan/drydock/internal/testimage"
	"github.com/drydock-scan/drydock/internal/vocab"
)

func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the dashboard test runs a server, a registry and Chromium")
	}
	reg := testimage.StartRegistryWith(t, testimage.RegistryBinary(t), testimage.RegistryOptions{})
	dsn := storetest.NewDatabase(t)

	// The fleet: Alpine 3.16.9, AlmaLinux 9.0 (two tags) and 8.8, and an
	// app on Alpine with a vulnerable lodash in a layer of its own.
	alpine := gunzipFile(t, layerFromArchive(t, alpineImage))
	alpineImg := fleetImages(t, 1, 1)[0].img // alpine + base layer + lodash 4.17.15 app layer
	plain, err := testimage.Build(testimage.Config{}, testimage.Layer{Tar: alpine, CreatedBy: "ADD alpine-minirootfs-3.16.9 /"})
	if err != nil {
		t.Fatal(err)
	}
	images := []fleetImage{
		{repo: "library/alpine", tag: "3.16.9", img: plain},
		{repo: "library/almalinux", tag: "9.0", img: almaV1Image(t, "9.0", "rpmdb.sqlite", "almalinux-9.0-rpmdb.sqlite.gz")},
		{repo: "library/almalinux", tag: "8.8", img: almaV1Image(t, "8.8", "Packages", "almalinux-8.8-Packages.gz")},
		{repo: "team/web", tag: "1.4", img: alpineImg},
	}
	push(t, reg.Host, images)

	// The gate denies images with a known exploited finding; the secret
	// key lets the server watch registries.
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "secret.key")
	admissionFile := filepath.Join(dir, "admission.yaml")
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("cd", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(admissionFile, []byte(strings.Replace(admissionConfigYAML, "builtin:no-fixable-critical", "builtin:kev", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newAPIClient(t, dsn)
	startDrydock(t, "server", "--postgres", dsn, "--listen", c.addr(), "--workers", "2", "--db", testDB,
		"--secret-key-file", keyFile, "--admission-config", admissionFile)
	c.waitReady(60 * time.Second)
	var jobs []int64
	for _, f := range images {
		tags := []string{f.tag}
		if f.tag == "9.0" {
			tags = append(tags, "9")
		}
		jobs = append(jobs, c.submit(f.ref(reg.Host), reg.Host+"/"+f.repo, tags...))
	}
	c.waitJobs(jobs, 120*time.Second)
	read := apiClient{t: t, base: c.base, token: apiToken(t, dsn, "read")}
	var sum store.Summary
	if code := read.do("GET", "/api/v1/summary", nil, &sum); code != 200 {
		t.Fatalf("summary: HTTP %d", code)
	}
	if sum.Images != 4 || sum.Findings == 0 || sum.KEVFindings == 0 {
		t.Fatalf("the fleet is not as built: %+v", sum)
	}
	var list struct {
		Images []store.ImageSummary `json:"images"`
	}
	if code := read.do("GET", "/api/v1/images", nil, &list); code != 200 {
		t.Fatalf("images: HTTP %d", code)
	}
	var almaIDs []string
	var alma90 store.ImageSummary
	for _, im := range list.Images {
		if strings.HasSuffix(im.Repository, "/library/almalinux") {
			almaIDs = append(almaIDs, strconv.FormatInt(im.ID, 10))
			if slices.Contains(im.Tags, "9.0") {
				alma90 = im
			}
		}
	}
	sort.Strings(almaIDs)
	if len(almaIDs) != 2 || alma90.ID == 0 {
		t.Fatalf("AlmaLinux images in the store: %v", almaIDs)
	}

	b := browsertest.New(t, c.base)

	// Without a token the dashboard shows nothing but the login page.
	b.Navigate("/ui/")
	if !strings.Contains(b.URL(), "/ui/login") || b.Count("table") != 0 {
		t.Fatalf("without a token: at %s with %d tables", b.URL(), b.Count("table"))
	}
	b.Screenshot("01-login")
	b.SetValue("#token", read.token)
	b.Submit("#token")
	if u := b.URL(); !strings.HasSuffix(u, "/ui/") {
		t.Fatalf("after login: at %s", u)
	}

	// The overview's counts are the API's.
	b.Screenshot("02-overview")
	for name, want := range map[string]int{"images": sum.Images, "repositories": sum.Repositories, "findings": sum.Findings,
		"kev": sum.KEVFindings, "fixable": sum.FixableFindings} {
		if got := b.Text(fmt.Sprintf(`[data-count="%s"]`, name)); got != strconv.Itoa(want) {
			t.Errorf("overview %s = %q, API says %d", name, got, want)
		}
	}
	for _, sev := range vocab.Severities() {
		if got := b.Text(fmt.Sprintf(`table.severities td[data-severity="%s"]`, sev)); got != strconv.Itoa(sum.BySeverity[sev]) {
			t.Errorf("overview %s = %q, API says %d", sev, got, sum.BySeverity[sev])
		}
	}
	if n := b.Count("#images tbody tr[data-image-id]"); n != 4 {
		t.Errorf("overview ranks %d images, want 4", n)
	}
	// Ranked by risk: the AlmaLinux images (KEV glibc) come first.
	ranked := attrs(b, "#images tbody tr[data-image-id]", "data-image-id")
	if top := slices.Sorted(slices.Values(ranked[:2])); !slices.Equal(top, almaIDs) {
		t.Errorf("ranked %v: the AlmaLinux images %v (known exploited) are not first", ranked, almaIDs)
	}

	// Where are we exposed to CVE-2023-4911? Exactly the AlmaLinux images,
	// searched from the header with the keyboard.
	b.Click("#top-q")
	b.SetValue("#top-q", "CVE-2023-4911")
	b.KeyAndWait("Enter")
	b.Screenshot("03-exposure-cve-2023-4911")
	got := slices.Sorted(slices.Values(uniq(attrs(b, "#exposure tbody tr[data-image-id]", "data-image-id"))))
	if !slices.Equal(got, almaIDs) {
		t.Errorf("CVE-2023-4911 lists images %v, want the AlmaLinux ones %v", got, almaIDs)
	}
	for _, row := range b.Texts("#exposure tbody tr") {
		if !strings.Contains(row, "glibc") || !strings.Contains(row, "COPY rootfs /") || !strings.Contains(row, "ALSA-2023:") {
			t.Errorf("exposure row without package, Dockerfile step or advisory: %q", row)
		}
	}
	if !strings.Contains(b.Text(".result-summary"), "2 images") || !strings.Contains(b.Text(".result-summary"), "3 tags") {
		t.Errorf("exposure summary: %q", b.Text(".result-summary"))
	}

	// The AlmaLinux 9.0 image page: its layer and findings.
	b.ClickAndWait(fmt.Sprintf(`#exposure tr[data-image-id="%d"] th a`, alma90.ID))
	if !strings.Contains(b.URL(), fmt.Sprintf("/ui/images/%d", alma90.ID)) {
		t.Fatalf("clicked to %s", b.URL())
	}
	b.Screenshot("04-image-almalinux-9.0")
	if n := b.Count("#layers tbody tr"); n != 1 {
		t.Errorf("the image page lists %d layers, want 1", n)
	}
	if step := b.Text("#layers tbody tr code.step"); step != "COPY rootfs /" {
		t.Errorf("layer step %q", step)
	}
	rep := read.report(alma90.ID)
	all := b.Count("#findings tbody tr[data-finding]")
	if all != len(rep.Findings) || all != alma90.Findings {
		t.Errorf("the image page lists %d findings; the report has %d, the API counts %d", all, len(rep.Findings), alma90.Findings)
	}

	// A filter changes the rows: HIGH only.
	b.SetValue("#f-sev", "HIGH")
	b.Submit("#f-sev")
	high := b.Texts("#findings tbody tr[data-finding] td:first-child")
	wantHigh := 0
	for _, f := range rep.Findings {
		if f.Severity == "HIGH" {
			wantHigh++
		}
	}
	if len(high) != wantHigh || len(high) == 0 || len(high) == all {
		t.Errorf("severity=HIGH: %d rows, want %d (of %d)", len(high), wantHigh, all)
	}
	for _, s := range high {
		if !strings.Contains(s, "HIGH") {
			t.Errorf("severity=HIGH kept a row %q", s)
		}
	}
	// A sort changes their order: by package, ascending.
	before := attrs(b, "#findings tbody tr[data-finding]", "data-finding")
	b.ClickAndWait(`#findings thead a[href*="sort=package"]`)
	after := attrs(b, "#findings tbody tr[data-finding]", "data-finding")
	pkgs := b.Texts("#findings tbody tr[data-finding] td:nth-of-type(2)")
	if slices.Equal(before, after) {
		t.Errorf("sorting by package did not change the order: %v", after)
	}
	if !slices.IsSorted(firstLines(pkgs)) {
		t.Errorf("sorted by package, the packages are %v", firstLines(pkgs))
	}
	if b.Count(`#findings thead th[aria-sort="ascending"]`) != 1 {
		t.Error("the sorted column has no aria-sort")
	}
	b.Screenshot("05-image-high-by-package")

	// The view is in the URL: opened again, it shows the same rows.
	view := b.URL()
	u, err := url.Parse(view)
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); q.Get("severity") != "HIGH" || q.Get("sort") != "package" {
		t.Errorf("the URL does not hold the view: %s", view)
	}
	b.Navigate("/ui/")
	b.Navigate(u.RequestURI())
	if again := attrs(b, "#findings tbody tr[data-finding]", "data-finding"); !slices.Equal(again, after) {
		t.Errorf("the view restored from %s shows %v, not %v", view, again, after)
	}

	// The keyboard: the first Tab reaches the skip link, Enter moves to the
	// content; every form control has a label.
	b.Navigate("/ui/")
	b.Key("Tab")
	if f := b.Focused(); !strings.Contains(f, "Skip to content") {
		t.Errorf("first Tab focuses %s, want the skip link", f)
	}
	for _, page := range []string{"/ui/", fmt.Sprintf("/ui/images/%d", alma90.ID), "/ui/registries", "/ui/exposure?q=glibc"} {
		b.Navigate(page)
		checkAccessible(t, b, page)
	}
	b.Screenshot("06-exposure-glibc")
	if n := len(uniq(attrs(b, "#exposure tbody tr[data-image-id]", "data-image-id"))); n != 2 {
		t.Errorf("glibc is in %d images, want the 2 AlmaLinux ones", n)
	}

	// Registries and admission: a watched registry polled, and the gate's
	// decisions — who was denied, and why.
	if code := c.do("POST", "/api/v1/registries", map[string]any{"name": "local", "host": "http://" + reg.Host,
		"repositories": []string{"library/*"}, "interval": "1h"}, nil); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/registries: HTTP %d", code)
	}
	until(t, 40*time.Second, "the registry polled", func() (bool, string) {
		var regs struct {
			Registries []struct {
				LastPolledAt *time.Time `json:"last_polled_at"`
				LastError    string     `json:"last_error"`
			} `json:"registries"`
		}
		read.do("GET", "/api/v1/registries", nil, &regs)
		return len(regs.Registries) == 1 && regs.Registries[0].LastPolledAt != nil, fmt.Sprint(regs)
	})
	review := admissionReview("deny-1", reg.Host+"/library/almalinux:9.0")
	// As the API server sends it: the object's name and who asks.
	review["request"].(map[string]any)["name"] = "web-7f9c"
	review["request"].(map[string]any)["userInfo"] = map[string]any{"username": "alice@example.com"}
	var denied admissionAnswer
	if code := c.do("POST", "/admission/validate", review, &denied); code != http.StatusOK || denied.Response.Allowed {
		t.Fatalf("admission of AlmaLinux 9.0 (known exploited glibc): HTTP %d, allowed %v", code, denied.Response.Allowed)
	}
	var allowed admissionAnswer
	if c.do("POST", "/admission/validate", admissionReview("allow-1", reg.Host+"/library/alpine:3.16.9"), &allowed); !allowed.Response.Allowed {
		t.Fatalf("admission of Alpine 3.16.9: denied: %s", allowed.message())
	}
	until(t, 10*time.Second, "the decisions recorded", func() (bool, string) {
		b.Navigate("/ui/registries")
		return b.Count("#decisions tbody tr td time") == 2, b.Text("#decisions")
	})
	b.Screenshot("07-registries-and-admission")
	if row := b.Text("#registries tbody tr"); !strings.Contains(row, reg.Host) || !strings.Contains(row, "library/*") || !strings.Contains(row, "ok") {
		t.Errorf("watched registry row: %q", row)
	}
	b.SetValue("#f-outcome", "denied")
	b.Submit("#f-outcome")
	rows := b.Texts("#decisions tbody tr")
	if len(rows) != 1 || !strings.Contains(rows[0], "alice@example.com") || !strings.Contains(rows[0], "almalinux:9.0") || !strings.Contains(rows[0], "default/web-7f9c") ||
		!strings.Contains(rows[0], "denied") || !strings.Contains(rows[0], denied.message()[len("drydock: "):][:20]) {
		t.Errorf("denied decisions: %q; the gate said %q", rows, denied.message())
	}
}

// attrs returns an attribute of every element matching selector.
func attrs(b *browsertest.Browser, selector, attr string) []string {
	var out []string
	re := fmt.Sprintf(`%s="`, attr)
	for _, el := range b.Outer(selector) {
		_, v, ok := strings.Cut(el, re)
		if !ok {
			continue
		}
		v, _, _ = strings.Cut(v, `"`)
		out = append(out, v)
	}
	return out
}

func uniq(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

func firstLines(s []string) []string {
	var out []string
	for _, v := range s {
		line, _, _ := strings.Cut(v, "\n")
		out = append(out, strings.TrimSpace(line))
	}
	return out
}

// checkAccessible: every visible form control has a label, every table a
// header row of th with scope, and severities are written out.
func checkAccessible(t *testing.T, b *browsertest.Browser, page string) {
	t.Helper()
	controls := b.Count("input:not([type=hidden]), select")
	labelled := b.Count("input:not([type=hidden])[id], select[id]")
	if controls == 0 || controls != labelled {
		t.Errorf("%s: %d form controls, %d with an id", page, controls, labelled)
	}
	for _, id := range attrs(b, "input:not([type=hidden]), select", "id") {
		if b.Count(fmt.Sprintf(`label[for="%s"]`, id)) != 1 {
			t.Errorf("%s: control #%s has no label", page, id)
		}
	}
	if n, h := b.Count("table"), b.Count("table thead th[scope=col]"); n == 0 || h < n {
		t.Errorf("%s: %d tables, %d column headers with scope", page, n, h)
	}
	for _, s := range b.Texts(".sev") {
		if !vocab.IsSeverity(strings.TrimSpace(s)) {
			t.Errorf("%s: a severity mark says %q, not a severity", page, s)
		}
	}
}
