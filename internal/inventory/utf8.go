package inventory

import (
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// What an image holds is bytes: package databases, lockfiles and tar paths
// may carry bytes that are not UTF-8. Every encoding of the inventory (the
// layer cache, the JSON report, the SBOMs) is JSON, and encoding/json writes
// each such byte as U+FFFD. So that a package read from the cache, or from a
// saved report or SBOM, is the same package (same ID, same order, same
// whiteout and ownership matches) as one read from the image, Merge makes
// every string valid UTF-8, the way encoding/json does, before it looks at
// any of them.

// ValidUTF8 returns s with each byte that does not start a valid UTF-8
// encoding replaced by U+FFFD: one U+FFFD per byte, exactly what
// encoding/json writes for s (strings.ToValidUTF8 would replace a run of
// such bytes with one). A valid s is returned as it is.
func ValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return string(out)
}

// WithValidUTF8 returns r with every string in it, at any depth (paths,
// package fields, metadata keys and values, file lists, notes, secret hits),
// passed through ValidUTF8: what r becomes after a trip through JSON, with
// the fields JSON leaves out (Package.Files) treated alike. r is not
// modified; the result shares with r everything that needed no change.
func (r *LayerResult) WithValidUTF8() LayerResult {
	v, changed := validValue(reflect.ValueOf(r).Elem())
	if !changed {
		return *r
	}
	return v.Interface().(LayerResult)
}

// validValue returns v with every string in it made valid, and whether
// anything changed. Nothing is modified in place: a changed struct, slice,
// array, map or pointer target is a copy, an unchanged one is v itself.
func validValue(v reflect.Value) (reflect.Value, bool) {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if utf8.ValidString(s) {
			return v, false
		}
		out := reflect.New(v.Type()).Elem()
		out.SetString(ValidUTF8(s))
		return out, true
	case reflect.Pointer:
		if v.IsNil() {
			return v, false
		}
		e, changed := validValue(v.Elem())
		if !changed {
			return v, false
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(e)
		return out, true
	case reflect.Struct:
		var out reflect.Value
		t := v.Type()
		for i := range v.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			f, changed := validValue(v.Field(i))
			if !changed {
				continue
			}
			if !out.IsValid() {
				out = reflect.New(t).Elem()
				out.Set(v)
			}
			out.Field(i).Set(f)
		}
		if !out.IsValid() {
			return v, false
		}
		return out, true
	case reflect.Slice, reflect.Array:
		if !holdsStrings(v.Type().Elem(), nil) {
			return v, false
		}
		if ss, ok := v.Interface().([]string); ok {
			// The common case (file lists, licences, whiteouts), without
			// reflection per element.
			return validStrings(ss)
		}
		var out reflect.Value
		for i := range v.Len() {
			e, changed := validValue(v.Index(i))
			if !changed {
				continue
			}
			if !out.IsValid() {
				if v.Kind() == reflect.Slice {
					out = reflect.MakeSlice(v.Type(), v.Len(), v.Len())
					reflect.Copy(out, v)
				} else {
					out = reflect.New(v.Type()).Elem()
					out.Set(v)
				}
			}
			out.Index(i).Set(e)
		}
		if !out.IsValid() {
			return v, false
		}
		return out, true
	case reflect.Map:
		return validMap(v)
	case reflect.Interface:
		if v.IsNil() {
			return v, false
		}
		e, changed := validValue(v.Elem())
		if !changed {
			return v, false
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(e)
		return out, true
	}
	return v, false
}

// validMap is validValue for maps. Of two keys that become one, the key
// that sorts last keeps its value, as after a JSON round trip
// (encoding/json writes the keys sorted; decoding keeps the last duplicate).
func validMap(v reflect.Value) (reflect.Value, bool) {
	t := v.Type()
	if v.IsNil() || !holdsStrings(t.Key(), nil) && !holdsStrings(t.Elem(), nil) {
		return v, false
	}
	if m, ok := v.Interface().(map[string]string); ok && validStringMap(m) {
		return v, false
	}
	keys := v.MapKeys()
	changed := false
	for _, k := range keys {
		_, kc := validValue(k)
		_, ec := validValue(v.MapIndex(k))
		if kc || ec {
			changed = true
			break
		}
	}
	if !changed {
		return v, false
	}
	if t.Key().Kind() == reflect.String {
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	}
	out := reflect.MakeMapWithSize(t, len(keys))
	for _, k := range keys {
		nk, _ := validValue(k)
		ne, _ := validValue(v.MapIndex(k))
		out.SetMapIndex(nk, ne)
	}
	return out, true
}

func validStrings(ss []string) (reflect.Value, bool) {
	i := slices.IndexFunc(ss, func(s string) bool { return !utf8.ValidString(s) })
	if i < 0 {
		return reflect.ValueOf(ss), false
	}
	out := slices.Clone(ss)
	for ; i < len(out); i++ {
		out[i] = ValidUTF8(out[i])
	}
	return reflect.ValueOf(out), true
}

func validStringMap(m map[string]string) bool {
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// holdsStrings reports whether a value of type t can contain a string.
func holdsStrings(t reflect.Type, seen map[reflect.Type]bool) bool {
	switch t.Kind() {
	case reflect.String, reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return holdsStrings(t.Elem(), seen)
	case reflect.Map:
		return holdsStrings(t.Key(), seen) || holdsStrings(t.Elem(), seen)
	case reflect.Struct:
		if seen[t] {
			return false
		}
		if seen == nil {
			seen = map[reflect.Type]bool{}
		}
		seen[t] = true
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && holdsStrings(f.Type, seen) {
				return true
			}
		}
	}
	return false
}
