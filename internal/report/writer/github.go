package writer

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/sbom"
)

// The GitHub dependency submission API snapshot (version 0).
type ghSnapshot struct {
	Version   int                   `json:"version"`
	Sha       string                `json:"sha"`
	Ref       string                `json:"ref"`
	Job       ghJob                 `json:"job"`
	Detector  ghDetector            `json:"detector"`
	Metadata  map[string]string     `json:"metadata,omitempty"`
	Scanned   string                `json:"scanned"`
	Manifests map[string]ghManifest `json:"manifests"`
}

type ghJob struct {
	Correlator string `json:"correlator"`
	ID         string `json:"id"`
	HTMLURL    string `json:"html_url,omitempty"`
}

type ghDetector struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	URL     string `json:"url"`
}

type ghManifest struct {
	Name     string                `json:"name"`
	File     ghFile                `json:"file"`
	Metadata map[string]string     `json:"metadata,omitempty"`
	Resolved map[string]ghResolved `json:"resolved"`
}

type ghFile struct {
	SourceLocation string `json:"source_location"`
}

type ghResolved struct {
	PackageURL   string            `json:"package_url"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	Relationship string            `json:"relationship"`
	Scope        string            `json:"scope"`
	Dependencies []string          `json:"dependencies"`
}

// GitHub writes a GitHub dependency submission snapshot: one manifest per
// package database or lockfile path in the image, each package resolved by
// its PURL. sha, ref and job come from the GitHub Actions environment
// (GITHUB_SHA, GITHUB_REF, GITHUB_WORKFLOW, GITHUB_JOB, GITHUB_RUN_ID,
// GITHUB_SERVER_URL, GITHUB_REPOSITORY). Packages without a PURL are left
// out: the API cannot take them.
func GitHub(w io.Writer, r *report.Report, opt Options) error {
	r = r.Normalized()
	env := getenv(opt)
	tool := r.Tool
	if tool.Name == "" {
		tool.Name = "drydock"
	}
	correlator := strings.Trim(env("GITHUB_WORKFLOW")+"_"+env("GITHUB_JOB"), "_")
	if correlator == "" {
		correlator = tool.Name
	}
	correlator += "_" + tool.Name + "_" + r.ImageName()
	snap := ghSnapshot{
		Version: 0,
		Sha:     env("GITHUB_SHA"),
		Ref:     env("GITHUB_REF"),
		Job:     ghJob{Correlator: correlator, ID: env("GITHUB_RUN_ID")},
		Detector: ghDetector{
			Name: tool.Name, Version: tool.Version, URL: sbom.InformationURI,
		},
		Metadata:  map[string]string{"image": r.ImageName()},
		Scanned:   r.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"),
		Manifests: map[string]ghManifest{},
	}
	if snap.Job.ID == "" {
		snap.Job.ID = "0"
	}
	if server, repo, run := env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"), env("GITHUB_RUN_ID"); server != "" && repo != "" && run != "" {
		snap.Job.HTMLURL = server + "/" + repo + "/actions/runs/" + run
	}
	if r.Image.Digest != "" {
		snap.Metadata["image_digest"] = r.Image.Digest
	}
	if r.Distro != nil {
		snap.Metadata["distro"] = strings.TrimSpace(r.Distro.ID + " " + r.Distro.VersionID)
	}
	for i := range r.Packages {
		p := &r.Packages[i]
		if p.PURL == "" {
			continue
		}
		path := strings.TrimPrefix(p.PrimaryPath(), "/")
		if path == "" {
			path = r.ImageName()
		}
		m, ok := snap.Manifests[path]
		if !ok {
			m = ghManifest{Name: path, File: ghFile{SourceLocation: path}, Resolved: map[string]ghResolved{}}
			if p.Layer != nil && p.Layer.DiffID != "" {
				m.Metadata = map[string]string{"layer_diff_id": p.Layer.DiffID}
			}
		}
		key := p.Name
		if _, dup := m.Resolved[key]; dup {
			key = p.Name + "@" + p.Version
		}
		if _, dup := m.Resolved[key]; dup {
			key = p.PURL
		}
		m.Resolved[key] = ghResolved{
			PackageURL:   p.PURL,
			Relationship: ghRelationship(p),
			Scope:        ghScope(p),
			Dependencies: []string{},
		}
		snap.Manifests[path] = m
	}
	err := writeJSONDoc(w, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(snap)
	})
	if err != nil {
		return fmt.Errorf("writing GitHub dependency snapshot: %w", err)
	}
	return nil
}

func ghRelationship(p *inventory.Package) string {
	if p.Metadata["indirect"] == "true" || p.Metadata["dependency"] == "indirect" {
		return "indirect"
	}
	return "direct"
}

func ghScope(p *inventory.Package) string {
	if p.Metadata["dev"] == "true" || p.Metadata["scope"] == "development" {
		return "development"
	}
	return "runtime"
}
