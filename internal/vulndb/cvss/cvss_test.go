package cvss

import (
	"testing"
)

func TestBaseScore(t *testing.T) {
	tests := []struct {
		vector string
		score  float64
		sev    string
	}{
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 5.5, Medium},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, Critical},
		{"CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", 5.5, Medium}, // NVD CVE-2023-42366
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, High},   // NVD CVE-2023-29491
		{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2, High},   // lodash GHSA-35jh-r3h4-6jhm
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, None},   // no impact
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, Critical},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9, Medium},
		{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, Low},
		// Metric order other than the spec's is accepted.
		{"CVSS:3.1/S:C/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H", 10.0, Critical},
		// Temporal metrics do not change the base score.
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:R", 9.8, Critical},
		// CVSS v4.0 (examples from the FIRST v4.0 calculator).
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, Critical},
		{"CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.5, High},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0, None},
		// CVSS v2 (NVD-style, with and without parentheses).
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5, High},
		{"(AV:N/AC:M/Au:N/C:N/I:P/A:N)", 4.3, Medium},
		{"AV:L/AC:H/Au:N/C:N/I:N/A:P", 1.2, Low},
	}
	for _, tt := range tests {
		score, sev, err := BaseScore(tt.vector)
		if err != nil {
			t.Errorf("BaseScore(%q): %v", tt.vector, err)
			continue
		}
		if score != tt.score || sev != tt.sev {
			t.Errorf("BaseScore(%q) = %v %s, want %v %s", tt.vector, score, sev, tt.score, tt.sev)
		}
	}
}

func TestBaseScoreErrors(t *testing.T) {
	for _, v := range []string{
		"",
		"CVSS:3.1/",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",          // missing A
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",      // bad value
		"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", // duplicate
		"CVSS:5.0/AV:N",
		"CVSS:4.0/AV:N/AC:L",
		"AV:N/AC:L",
		"not a vector",
	} {
		if s, sev, err := BaseScore(v); err == nil {
			t.Errorf("BaseScore(%q) = %v %s, want an error", v, s, sev)
		}
	}
}

func FuzzBaseScore(f *testing.F) {
	for _, s := range []string{
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H",
		"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
		"AV:N/AC:L/Au:N/C:P/I:P/A:P",
		"(AV:N/AC:M/Au:N/C:N/I:P/A:N)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s, sev, err := BaseScore(v)
		if err != nil {
			return
		}
		if s < 0 || s > 10 || sev == "" {
			t.Fatalf("BaseScore(%q) = %v %q", v, s, sev)
		}
	})
}
