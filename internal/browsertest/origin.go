package browsertest

import (
	"errors"
	"net/url"
	"strings"
)

// originOf returns the origin of raw as scheme://host[:port], lower case and
// without the scheme's default port, so that two spellings of one origin
// compare equal. file: URLs have the origin "file://" (every local file);
// other schemes have no origin a page could be served from.
func originOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return "", errors.New("no host")
		}
	case "file":
		return "file://", nil
	case "":
		return "", errors.New("no scheme")
	default:
		return "", errors.New("not an http, https or file URL")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if port == "" || u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443" {
		return u.Scheme + "://" + host, nil
	}
	return u.Scheme + "://" + host + ":" + port, nil
}

// allowed reports whether the browser may load raw when origin is the server
// under test: data:, about: and blob: URLs never reach the network (a blob
// is in the page's memory); every other URL must be on origin.
func allowed(origin, raw string) bool {
	scheme, _, ok := strings.Cut(raw, ":")
	if ok {
		switch strings.ToLower(scheme) {
		case "data", "about", "blob":
			return true
		}
	}
	o, err := originOf(raw)
	return err == nil && o == origin
}

// resolverRules makes Chromium's resolver fail for every host but the one of
// origin (the file: origin has none), IP literals included.
func resolverRules(origin string) string {
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return "MAP * ~NOTFOUND"
	}
	return "MAP * ~NOTFOUND, EXCLUDE " + u.Hostname()
}
