package inventory

import "time"

// Image is what the source stage learned about the image.
type Image struct {
	Reference string `json:"reference"`
	Kind      string `json:"kind"` // registry, docker-archive, oci-layout, oci-archive, dir, sbom
	Name      string `json:"name,omitempty"`
	Digest    string `json:"digest,omitempty"` // manifest digest
	// IndexDigest is the digest of the multi-platform index the manifest was
	// chosen from, when one was resolved.
	IndexDigest  string      `json:"index_digest,omitempty"`
	ConfigDigest string      `json:"config_digest,omitempty"`
	RepoTags     []string    `json:"repo_tags,omitempty"`
	RepoDigests  []string    `json:"repo_digests,omitempty"`
	OS           string      `json:"os,omitempty"`
	Arch         string      `json:"architecture,omitempty"`
	Variant      string      `json:"variant,omitempty"`
	Created      time.Time   `json:"created,omitempty"`
	Config       ImageConfig `json:"config"`
	Layers       []Layer     `json:"layers"`
	History      []History   `json:"history,omitempty"`
}

// ImageConfig is the runtime configuration of the image.
type ImageConfig struct {
	User         string            `json:"user,omitempty"`
	Env          []string          `json:"env,omitempty"` // values of secret-looking names are redacted
	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	WorkingDir   string            `json:"working_dir,omitempty"`
	ExposedPorts []string          `json:"exposed_ports,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Healthcheck  []string          `json:"healthcheck,omitempty"`
}

// History is one entry of the image history (one Dockerfile step).
type History struct {
	Created    time.Time `json:"created,omitempty"`
	CreatedBy  string    `json:"created_by,omitempty"`
	Comment    string    `json:"comment,omitempty"`
	EmptyLayer bool      `json:"empty_layer,omitempty"`
	// LayerIndex is the layer this step produced, or -1 for empty layers.
	LayerIndex int `json:"layer_index"`
}
