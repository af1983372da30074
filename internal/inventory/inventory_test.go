package inventory

import "testing"

// TestMatchable: rpm gpg-pubkey entries (signing keys) are listed but never
// matched, whether the rpm extractor marked them or another tool's SBOM
// brought them in.
func TestMatchable(t *testing.T) {
	key := map[string]string{MetaKind: KindGPGPubkey}
	tests := []struct {
		p    Package
		want bool
	}{
		{Package{Name: "glibc", Ecosystem: EcoRPM}, true},
		{Package{Name: "gpg-pubkey", Ecosystem: EcoRPM, Metadata: key}, false},
		// From an SBOM another tool wrote: no drydock metadata.
		{Package{Name: "gpg-pubkey", Ecosystem: EcoRPM}, false},
		{Package{Name: "gpg-pubkey", Ecosystem: EcoNPM}, true},
		{Package{Name: "x", Ecosystem: EcoRPM, Metadata: key}, false},
	}
	for _, tt := range tests {
		if got := tt.p.Matchable(); got != tt.want {
			t.Errorf("%s %s %v: Matchable() = %v, want %v", tt.p.Ecosystem, tt.p.Name, tt.p.Metadata, got, tt.want)
		}
	}
}
