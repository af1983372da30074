package vocab

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSeverityOrder(t *testing.T) {
	levels := Severities()
	for i := 1; i < len(levels); i++ {
		if SeverityRank(levels[i-1]) <= SeverityRank(levels[i]) {
			t.Errorf("%s does not rank above %s", levels[i-1], levels[i])
		}
	}
	levels[0] = "changed"
	if Severities()[0] != SevCritical {
		t.Error("Severities returned shared state")
	}
}

func TestNormalizeSeverity(t *testing.T) {
	tests := map[string]string{
		"Important": SevHigh, " moderate ": SevMedium, "unimportant": SevNegligible,
		"CRITICAL": SevCritical, "": SevUnknown, "urgent": SevUnknown,
	}
	for in, want := range tests {
		if got := NormalizeSeverity(in); got != want {
			t.Errorf("NormalizeSeverity(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSeverityFromScore(t *testing.T) {
	got := []string{}
	for _, s := range []float64{10, 9.0, 8.9, 7.0, 6.9, 4.0, 3.9, 0.1, 0} {
		got = append(got, SeverityFromScore(s))
	}
	want := []string{SevCritical, SevCritical, SevHigh, SevHigh, SevMedium, SevMedium, SevLow, SevLow, SevUnknown}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
}

func TestPURLTypes(t *testing.T) {
	for _, e := range purlTypes() {
		if got := EcosystemOfPURLType(e[1]); got != e[0] {
			t.Errorf("EcosystemOfPURLType(%q) = %q, want %q", e[1], got, e[0])
		}
		if got := PURLTypeOf(e[0]); got != e[1] {
			t.Errorf("PURLTypeOf(%q) = %q, want %q", e[0], got, e[1])
		}
	}
	if got := EcosystemOfPURLType("GOLANG"); got != EcoGo {
		t.Errorf("case-insensitive type: got %q", got)
	}
	if got := EcosystemOfPURLType("swift"); got != "" {
		t.Errorf("unknown type: got %q", got)
	}
}
