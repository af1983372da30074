package policy

import (
	"fmt"
	"strings"
	"time"
)

// expiry is an optional "expires:" value. A date (YYYY-MM-DD) is valid
// through the end of that day in UTC; an RFC 3339 timestamp is exact.
type expiry struct {
	raw string
	at  time.Time // first instant at which the entry no longer applies
}

func parseExpiry(s string) (expiry, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return expiry{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return expiry{raw: s, at: t.AddDate(0, 0, 1)}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return expiry{raw: s, at: t}, nil
	}
	return expiry{}, fmt.Errorf("invalid expiry %q: want YYYY-MM-DD or an RFC 3339 time", s)
}

func (e expiry) expired(now time.Time) bool {
	return !e.at.IsZero() && !now.Before(e.at)
}
