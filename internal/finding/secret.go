package finding

// Secret is a secret found in a file of a layer or in the image config.
type Secret struct {
	RuleID   string `json:"rule_id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Category string `json:"category,omitempty"`
	// Where: "file", "config-env", "config-label", "config-entrypoint",
	// "config-cmd", "config-healthcheck", "history".
	Source string `json:"source"`
	Path   string `json:"path,omitempty"`
	Line   int    `json:"line,omitempty"`
	// Match is the redacted evidence: never the whole secret.
	Match       string `json:"match"`
	LayerIndex  int    `json:"layer_index"`
	LayerDiffID string `json:"layer_diff_id,omitempty"`
	CreatedBy   string `json:"created_by,omitempty"`
	// DeletedInLayer is set when a later layer removes or overwrites the file:
	// the secret is still readable by anyone who pulls the image.
	DeletedInLayer *int         `json:"deleted_in_layer,omitempty"`
	Annotations    []Annotation `json:"annotations,omitempty"`
}

// Misconfig is a failed image configuration check.
type Misconfig struct {
	ID          string       `json:"id"` // e.g. "DD-IMG-001"
	Title       string       `json:"title"`
	Severity    string       `json:"severity"`
	CIS         string       `json:"cis,omitempty"` // CIS Docker Benchmark reference, e.g. "4.1"
	Description string       `json:"description,omitempty"`
	Evidence    []string     `json:"evidence,omitempty"`
	Fix         string       `json:"fix,omitempty"`
	Annotations []Annotation `json:"annotations,omitempty"`
}
