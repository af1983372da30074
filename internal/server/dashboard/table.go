package dashboard

import (
	"cmp"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/vocab"
)

// A table's state lives in the URL's query: sort key and direction, page
// and filters, each parameter prefixed by the table's name when a page has
// several (p="f." → f.sort, f.dir, f.page). Links keep every other
// parameter, so sorting keeps the filters and filtering starts at page 1.

// column is a sortable column of a table.
type column[T any] struct {
	Key   string
	Label string
	// Cmp orders two rows ascending; Desc says which direction a first
	// click sorts (severity and counts: highest first).
	Cmp  func(a, b T) int
	Desc bool
	// Num right-aligns the column.
	Num bool
}

// tableState is a table's state read from the query.
type tableState struct {
	prefix string
	query  url.Values
	Sort   string
	Desc   bool
	Page   int // from 1
	Size   int
}

func readState(q url.Values, prefix, defSort string, defDesc bool, size int) tableState {
	st := tableState{prefix: prefix, query: q, Sort: q.Get(prefix + "sort"), Page: 1, Size: size}
	if st.Sort == "" {
		st.Sort, st.Desc = defSort, defDesc
	} else {
		st.Desc = q.Get(prefix+"dir") == "desc"
	}
	if n, err := strconv.Atoi(q.Get(prefix + "page")); err == nil && n > 1 {
		st.Page = n
	}
	return st
}

// with returns the page's URL query with the table's parameters changed
// (a "" value removes one).
func (st tableState) with(kv ...string) template.URL {
	q := url.Values{}
	for k, v := range st.query {
		q[k] = slices.Clone(v)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(st.prefix + kv[i])
		} else {
			q.Set(st.prefix+kv[i], kv[i+1])
		}
	}
	return template.URL("?" + q.Encode())
}

// header is one column header as the template draws it.
type header struct {
	Label string
	Link  template.URL // "" for an unsortable column
	Sort  string       // aria-sort: "ascending", "descending" or "none"
	Num   bool
}

// sortRows sorts rows by the state's column (ties keep the default order,
// which the caller's slice is in), and returns the headers.
func sortRows[T any](rows []T, st *tableState, cols []column[T]) []header {
	var hs []header
	var by *column[T]
	for i := range cols {
		c := &cols[i]
		h := header{Label: c.Label, Num: c.Num, Sort: "none"}
		if c.Cmp != nil {
			dir := map[bool]string{true: "desc", false: "asc"}[c.Desc]
			if c.Key == st.Sort {
				by = c
				h.Sort = map[bool]string{true: "descending", false: "ascending"}[st.Desc]
				dir = map[bool]string{true: "asc", false: "desc"}[st.Desc]
			}
			h.Link = st.with("sort", c.Key, "dir", dir, "page", "")
		}
		hs = append(hs, h)
	}
	if by == nil {
		st.Sort = ""
		return hs
	}
	slices.SortStableFunc(rows, func(a, b T) int {
		if st.Desc {
			return by.Cmp(b, a)
		}
		return by.Cmp(a, b)
	})
	return hs
}

// pager is the paging of a table as the template draws it.
type pager struct {
	Total, From, To int
	Prev, Next      template.URL
	Page, Pages     int
}

// paginate returns the rows of the state's page.
func paginate[T any](rows []T, st tableState) ([]T, pager) {
	p := pager{Total: len(rows), Page: st.Page, Pages: max(1, (len(rows)+st.Size-1)/st.Size)}
	p.Page = min(p.Page, p.Pages)
	start := (p.Page - 1) * st.Size
	end := min(start+st.Size, len(rows))
	if p.Page > 1 {
		p.Prev = st.with("page", strconv.Itoa(p.Page-1))
	}
	if end < len(rows) {
		p.Next = st.with("page", strconv.Itoa(p.Page+1))
	}
	if len(rows) > 0 {
		p.From, p.To = start+1, end
	}
	return rows[start:end], p
}

// contains reports whether any of the fields contains the needle
// (case-insensitive); an empty needle matches.
func contains(needle string, fields ...string) bool {
	if needle == "" {
		return true
	}
	needle = strings.ToLower(needle)
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), needle) {
			return true
		}
	}
	return false
}

func bySeverity(a, b string) int { return cmp.Compare(vocab.SeverityRank(a), vocab.SeverityRank(b)) }

func byTime(a, b time.Time) int { return a.Compare(b) }

// shortHex is a digest's first 12 hex digits ("sha256:" dropped).
func shortHex(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if !ok {
		hex = d
	}
	return hex[:min(len(hex), 12)]
}

// funcs are the templates' helpers.
func funcs() template.FuncMap {
	return template.FuncMap{
		"short": shortHex,
		"ago":   func(now, t time.Time) string { return ago(now.Sub(t)) },
		"date": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return ""
				}
				return v.UTC().Format("2006-01-02 15:04 UTC")
			case *time.Time:
				if v == nil || v.IsZero() {
					return ""
				}
				return v.UTC().Format("2006-01-02 15:04 UTC")
			}
			return fmt.Sprint(t)
		},
		"day":      func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"sevClass": func(s string) string { return "sev-" + strings.ToLower(s) },
		"clip": func(n int, s string) string {
			if r := []rune(s); len(r) > n {
				return string(r[:n-1]) + "…"
			}
			return s
		},
		"join":     strings.Join,
		"pct":      func(n, of int) string { return pct(n, of) },
		"plural":   plural,
		"sevs":     vocab.Severities,
		"sevOf":    func(m map[string]int, s string) int { return m[s] },
		"add":      func(a, b int) int { return a + b },
		"query":    func(u *url.URL, k string) string { return u.Query().Get(k) },
		"checked":  func(u *url.URL, k string) bool { return checkedQ(u.Query(), k) },
		"selected": func(u *url.URL, k, v string) bool { return u.Query().Get(k) == v },
		"imageURL": func(id int64) template.URL { return template.URL(fmt.Sprintf("/ui/images/%d", id)) },
		"scanned":  func(scanners []string, s string) bool { return slices.Contains(scanners, s) },
		"deref":    func(t *time.Time) time.Time { return *t },
		// The admission gate's outcomes (admission.Outcome*).
		"outcomes": func() []string {
			return []string{"denied", "fail_closed", "warned", "fail_open", "allowed"}
		},
		"searchURL": func(q string) template.URL {
			return template.URL("/ui/exposure?q=" + url.QueryEscape(q))
		},
	}
}

func pct(n, of int) string {
	if of == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(of))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}
