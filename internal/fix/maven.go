package fix

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/drydock-scan/drydock/internal/version"
)

// pomText is the text of one element with its byte span in the file.
type pomText struct {
	text       string
	start, end int
}

// pomDep is one <dependency> of a pom.xml.
type pomDep struct {
	group, artifact string
	version         *pomText
}

// parsePOM reads a pom.xml's dependencies (in <dependencies> and
// <dependencyManagement>, also under profiles) and its <properties>, with
// the byte spans of their text.
func parsePOM(b []byte) ([]pomDep, map[string]*pomText, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var stack []string
	var deps []pomDep
	props := map[string]*pomText{}
	var cur *pomDep
	for {
		start := int(d.InputOffset())
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if len(stack) > maxJSONDepth {
			return nil, nil, fmt.Errorf("nested deeper than %d", maxJSONDepth)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			if t.Name.Local == "dependency" && len(stack) >= 2 && stack[len(stack)-2] == "dependencies" {
				cur = &pomDep{}
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, nil, fmt.Errorf("unbalanced </%s>", t.Name.Local)
			}
			if t.Name.Local == "dependency" && cur != nil {
				deps = append(deps, *cur)
				cur = nil
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			end := int(d.InputOffset())
			raw := string(b[start:end])
			text := strings.TrimSpace(string(t))
			lead := len(raw) - len(strings.TrimLeft(raw, " \t\r\n"))
			pt := &pomText{text: text, start: start + lead, end: start + lead + len(text)}
			if b2 := string(b[pt.start:min(pt.end, len(b))]); b2 != text {
				// Entities or CDATA: the raw bytes are not the text.
				pt = &pomText{text: text, start: -1, end: -1}
			}
			n := len(stack)
			switch {
			case cur != nil && n >= 2 && stack[n-2] == "dependency":
				switch stack[n-1] {
				case "groupId":
					cur.group = text
				case "artifactId":
					cur.artifact = text
				case "version":
					cur.version = pt
				}
			case n >= 2 && stack[n-2] == "properties":
				props[stack[n-1]] = pt
			}
		}
	}
	return deps, props, nil
}

// pomBump raises the version of dependency name ("group:artifact") to to
// in a pom.xml: a literal version in place, a ${property} in the
// <properties> that define it. A dependency without a version (managed by
// a parent or a BOM), a version range, or a property the file does not
// define is an error naming it. Versions already at or above to are left
// alone.
func pomBump(pom []byte, name, to string) ([]byte, int, string, error) {
	deps, props, err := parsePOM(pom)
	if err != nil {
		return nil, 0, "", err
	}
	c := version.Maven()
	var ss []splice
	seen := map[int]bool{}
	constraint := ""
	for _, dp := range deps {
		if dp.group+":"+dp.artifact != name {
			continue
		}
		if dp.version == nil || dp.version.text == "" {
			return nil, 0, "", fmt.Errorf("the dependency %s has no version here (a parent or a BOM manages it): edit it there", name)
		}
		v := dp.version
		constraint = v.text
		if strings.HasPrefix(v.text, "${") && strings.HasSuffix(v.text, "}") {
			prop := strings.TrimSuffix(strings.TrimPrefix(v.text, "${"), "}")
			pv, ok := props[prop]
			if !ok {
				return nil, 0, constraint, fmt.Errorf("the version of %s is ${%s}, which this file does not define: edit it where it is defined", name, prop)
			}
			v = pv
		}
		if strings.ContainsAny(v.text, "[](),$") {
			return nil, 0, constraint, fmt.Errorf("the version of %s is %q, a range or expression: edit it by hand", name, v.text)
		}
		if v.start < 0 {
			return nil, 0, constraint, fmt.Errorf("the version of %s is written with entities or CDATA: edit it by hand", name)
		}
		if d, err := c.Compare(v.text, to); err == nil && d >= 0 {
			continue
		}
		if !seen[v.start] {
			seen[v.start] = true
			ss = append(ss, splice{v.start, v.end, to})
		}
	}
	out, err := applySplices(pom, ss)
	if err != nil {
		return nil, 0, constraint, err
	}
	return out, len(ss), constraint, nil
}
