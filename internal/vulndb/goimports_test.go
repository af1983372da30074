package vulndb

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseOSVGoImports: the Go database lists the vulnerable packages and
// symbols in affected[].ecosystem_specific.imports, and a record may give
// different ones per version range (GO-2023-1497, GO-2025-3442, GO-2023-2185
// in the real database). The advisory keeps all of them: the union, without
// duplicates; the rest of ecosystem_specific is the first entry's.
func TestParseOSVGoImports(t *testing.T) {
	rec := `{
	  "id": "GO-2023-1497", "modified": "2024-05-20T16:03:47Z", "published": "2023-01-12T00:00:00Z",
	  "affected": [
	    {"package": {"ecosystem": "Go", "name": "github.com/sylabs/scs-library-client"},
	     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.4"}]}],
	     "ecosystem_specific": {"imports": [{"path": "github.com/sylabs/scs-library-client/client",
	       "symbols": ["Client.ConcurrentDownloadImage", "Client.UploadImage", "Client.httpGetRangeRequest"]}]}},
	    {"package": {"ecosystem": "Go", "name": "github.com/sylabs/scs-library-client"},
	     "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.4.0"}, {"fixed": "1.4.2"}]}],
	     "ecosystem_specific": {"imports": [{"path": "github.com/sylabs/scs-library-client/client",
	       "symbols": ["Client.ConcurrentDownloadImage", "Client.legacyDownloadImage"]},
	       {"path": "github.com/sylabs/scs-library-client/client", "symbols": ["Client.ConcurrentDownloadImage", "Client.UploadImage", "Client.httpGetRangeRequest"]}]}},
	    {"package": {"ecosystem": "Go", "name": "github.com/sylabs/scs-library-client"},
	     "ranges": [{"type": "SEMVER", "events": [{"introduced": "2.0.0"}, {"fixed": "2.0.1"}]}]}
	  ],
	  "database_specific": {"review_status": "REVIEWED"}
	}`
	advs, _, err := ParseOSV([]byte(rec), "osv/Go")
	if err != nil {
		t.Fatal(err)
	}
	if len(advs) != 1 {
		t.Fatalf("%d advisories, want 1", len(advs))
	}
	var es struct {
		Imports []struct {
			Path    string   `json:"path"`
			Symbols []string `json:"symbols"`
		} `json:"imports"`
	}
	if err := json.Unmarshal(advs[0].EcosystemSpecific, &es); err != nil {
		t.Fatal(err)
	}
	type imp = struct {
		Path    string   `json:"path"`
		Symbols []string `json:"symbols"`
	}
	want := []imp{
		{Path: "github.com/sylabs/scs-library-client/client", Symbols: []string{"Client.ConcurrentDownloadImage", "Client.UploadImage", "Client.httpGetRangeRequest"}},
		{Path: "github.com/sylabs/scs-library-client/client", Symbols: []string{"Client.ConcurrentDownloadImage", "Client.legacyDownloadImage"}},
	}
	if diff := cmp.Diff(want, es.Imports); diff != "" {
		t.Errorf("imports (-want +got):\n%s", diff)
	}
}

// TestJoinImports: what is not a pair of objects with imports is left alone.
func TestJoinImports(t *testing.T) {
	for _, tt := range []struct{ es, other, want string }{
		{`{"imports":[{"path":"a"}]}`, `{"imports":[{"path":"b"}]}`, `{"imports":[{"path":"a"},{"path":"b"}]}`},
		{`{"custom_ranges":[1]}`, `{"imports":[{"path":"b"}]}`, `{"custom_ranges":[1],"imports":[{"path":"b"}]}`},
		{`{"imports":[{"path":"a"}]}`, `{"severity":"high"}`, `{"imports":[{"path":"a"}]}`},
		{`{"imports":[{"path":"a"}]}`, `[1]`, `{"imports":[{"path":"a"}]}`},
		{`{"imports":"x"}`, `{"imports":[{"path":"b"}]}`, `{"imports":"x"}`},
	} {
		if got := string(joinImports(json.RawMessage(tt.es), json.RawMessage(tt.other))); got != tt.want {
			t.Errorf("joinImports(%s, %s) = %s, want %s", tt.es, tt.other, got, tt.want)
		}
	}
}
