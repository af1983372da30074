package fix

import (
	"fmt"
	goversion "go/version"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// goVersion writes a Go module version with its "v".
func goVersion(v string) string {
	if strings.HasPrefix(v, "v") {
		return v
	}
	return "v" + v
}

// goModBump raises the requirement on module path to version to in a
// go.mod: the require line is rewritten in place (a module the file does
// not list is added as // indirect: a requirement is a minimum, so raising
// it is what `go get path@to` does). A module the file replaces is an
// error (the replacement decides its version), as is a target of another
// major version (another module path). go.sum is not touched: its hashes
// of the new version are not known offline.
func goModBump(gomod []byte, file, path, to string) ([]byte, string, error) {
	to = goVersion(to)
	if !semver.IsValid(to) {
		return nil, "", fmt.Errorf("%q is not a Go module version", to)
	}
	if err := module.Check(path, to); err != nil {
		return nil, "", fmt.Errorf("the fix %s of %s: %w", to, path, err)
	}
	f, err := modfile.Parse(file, gomod, nil)
	if err != nil {
		return nil, "", err
	}
	for _, r := range f.Replace {
		if r.Old.Path == path && (r.Old.Version == "" || r.Old.Version != to) {
			return nil, "", fmt.Errorf("%s replaces %s with %s: edit the replace directive by hand", file, path, strings.TrimSpace(r.New.Path+" "+r.New.Version))
		}
	}
	cur := ""
	for _, r := range f.Require {
		if r.Mod.Path == path {
			cur = r.Mod.Version
		}
	}
	if cur != "" && semver.Compare(cur, to) >= 0 {
		return gomod, cur, nil
	}
	if cur == "" {
		f.AddNewRequire(path, to, true)
	} else if err := f.AddRequire(path, to); err != nil {
		return nil, cur, fmt.Errorf("raising %s to %s: %w", path, to, err)
	}
	f.Cleanup()
	out, err := f.Format()
	if err != nil {
		return nil, cur, fmt.Errorf("formatting %s: %w", file, err)
	}
	// modfile formats some odd input into a file it cannot read back:
	// never write one.
	if _, err := modfile.Parse(file, out, nil); err != nil {
		return nil, cur, fmt.Errorf("%s: the edited file would not parse (%v): edit it by hand", file, err)
	}
	return out, cur, nil
}

// goModRequires reports whether a go.mod requires module path; an
// unparseable file is an error (the caller says it was not edited).
func goModRequires(gomod []byte, file, path string) (bool, error) {
	f, err := modfile.Parse(file, gomod, nil)
	if err != nil {
		return false, err
	}
	for _, r := range f.Require {
		if r.Mod.Path == path {
			return true, nil
		}
	}
	return false, nil
}

// goModToolchain makes a go.mod ask for Go toolchain go<to> or later (the
// fix of a standard-library finding): its toolchain line is set (added)
// when neither it nor the go line already asks for that much. It takes
// effect where the build lets go.mod choose its toolchain (GOTOOLCHAIN=auto,
// the default); a build image pinned to an older Go must move too.
func goModToolchain(gomod []byte, file, to string) ([]byte, string, error) {
	want := "go" + strings.TrimPrefix(strings.TrimPrefix(to, "v"), "go")
	if !goversion.IsValid(want) {
		return nil, "", fmt.Errorf("%q is not a Go release", to)
	}
	f, err := modfile.Parse(file, gomod, nil)
	if err != nil {
		return nil, "", err
	}
	cur := ""
	if f.Go != nil {
		cur = "go" + f.Go.Version
	}
	if f.Toolchain != nil && goversion.Compare(f.Toolchain.Name, cur) > 0 {
		cur = f.Toolchain.Name
	}
	if cur != "" && goversion.Compare(cur, want) >= 0 {
		return gomod, cur, nil
	}
	if err := f.AddToolchainStmt(want); err != nil {
		return nil, cur, fmt.Errorf("setting the toolchain of %s: %w", file, err)
	}
	f.Cleanup()
	out, err := f.Format()
	if err != nil {
		return nil, cur, fmt.Errorf("formatting %s: %w", file, err)
	}
	if _, err := modfile.Parse(file, out, nil); err != nil {
		return nil, cur, fmt.Errorf("%s: the edited file would not parse (%v): edit it by hand", file, err)
	}
	return out, cur, nil
}
