// Package cvss computes CVSS base scores from vector strings.
//
// Parsing and scoring are done by github.com/pandatix/go-cvss (maintained,
// spec-conformant for CVSS v2.0, v3.0, v3.1 and v4.0, fuzzed upstream); this
// package only picks the version from the vector's prefix and maps the score
// to the qualitative rating.
package cvss

import (
	"errors"
	"fmt"
	"math"
	"strings"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
)

// Rating words returned as severity.
const (
	None     = "NONE"
	Low      = "LOW"
	Medium   = "MEDIUM"
	High     = "HIGH"
	Critical = "CRITICAL"
)

// BaseScore returns the base score and its qualitative rating for a vector:
//   - "CVSS:3.0/…" and "CVSS:3.1/…": CVSS v3 base score, rating per the v3 spec;
//   - "CVSS:4.0/…": CVSS v4.0 score (CVSS-B, or the vector's threat and
//     environmental metrics if it has them), rating per the v4 spec;
//   - anything else is read as CVSS v2 ("AV:N/AC:L/Au:N/C:P/I:P/A:P", also in
//     parentheses or with a "CVSS:2.0/" prefix), rated the way NVD rates v2
//     (LOW < 4.0 ≤ MEDIUM < 7.0 ≤ HIGH).
func BaseScore(vector string) (score float64, severity string, err error) {
	v := strings.TrimSpace(vector)
	switch {
	case strings.HasPrefix(v, "CVSS:3.1/"):
		c, err := gocvss31.ParseVector(v)
		if err != nil {
			return 0, "", fmt.Errorf("parsing CVSS v3.1 vector %q: %w", vector, err)
		}
		return rate3(c.BaseScore())
	case strings.HasPrefix(v, "CVSS:3.0/"):
		c, err := gocvss30.ParseVector(v)
		if err != nil {
			return 0, "", fmt.Errorf("parsing CVSS v3.0 vector %q: %w", vector, err)
		}
		return rate3(c.BaseScore())
	case strings.HasPrefix(v, "CVSS:4.0/"):
		c, err := gocvss40.ParseVector(v)
		if err != nil {
			return 0, "", fmt.Errorf("parsing CVSS v4.0 vector %q: %w", vector, err)
		}
		return rate3(c.Score())
	case strings.HasPrefix(v, "CVSS:"):
		return 0, "", fmt.Errorf("parsing CVSS vector %q: unsupported version", vector)
	}
	v2 := strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(v, "("), ")"), "CVSS:2.0/")
	if v2 == "" {
		return 0, "", errors.New("parsing CVSS vector: empty vector")
	}
	c, err := gocvss20.ParseVector(v2)
	if err != nil {
		return 0, "", fmt.Errorf("parsing CVSS v2 vector %q: %w", vector, err)
	}
	s := round1(c.BaseScore())
	switch {
	case s >= 7.0:
		return s, High, nil
	case s >= 4.0:
		return s, Medium, nil
	}
	return s, Low, nil
}

// rate3 applies the v3.x/v4.0 qualitative scale.
func rate3(s float64) (float64, string, error) {
	s = round1(s)
	switch {
	case math.IsNaN(s) || s < 0 || s > 10:
		return 0, "", fmt.Errorf("CVSS score %v out of range", s)
	case s >= 9.0:
		return s, Critical, nil
	case s >= 7.0:
		return s, High, nil
	case s >= 4.0:
		return s, Medium, nil
	case s > 0:
		return s, Low, nil
	}
	return s, None, nil
}

// round1 removes binary noise (7.800000000000001 → 7.8); scores have one
// decimal.
func round1(s float64) float64 {
	return math.Round(s*10) / 10
}
