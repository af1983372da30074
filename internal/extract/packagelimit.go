package extract

import (
	"fmt"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// The language extractors take the packages they report from the scan's
// package limit (Budget.TakePackages), so that a huge site-packages, gem
// tree or lockfile cannot make the scan hold more packages than the limit:
//
//	if reached, err := extract.PackageLimitReached(in); reached {
//		return inventory.Inventory{}, wrap(err) // err nil: say nothing
//	}
//	… read the file into pkgs …
//	pkgs, cut := extract.LimitPackages(in, pkgs)
//
// The first file of a layer that the limit cuts says so with an error
// wrapping ErrBudget (a warning naming the file; the layer, whose result
// then depends on the other layers, is not cached); the package files after
// it in the layer are not read, without another note.

// PackageLimitReached reports whether the scan's package limit is reached,
// before a package file is read: then the file is not read, and err, when
// not nil, is the note of the first such file of the layer (it does not
// name the file: the caller wraps it with its path).
func PackageLimitReached(in *Input) (reached bool, err error) {
	if in.Budget.PackagesLeft() > 0 {
		return false, nil
	}
	if _, first := in.Budget.TakePackages(in.Layer.DiffID, 1); first {
		return true, PackageCutError(in.Budget, 0, 0)
	}
	return true, nil
}

// LimitPackages takes pkgs, found in one file, from the scan's package
// limit and returns those granted: the first ones, in pkgs' order (sort
// them first). When some are cut, err is non-nil for the first file of the
// layer cut (see PackageLimitReached).
func LimitPackages(in *Input, pkgs []inventory.Package) (kept []inventory.Package, err error) {
	granted, first := in.Budget.TakePackages(in.Layer.DiffID, len(pkgs))
	if granted == len(pkgs) {
		return pkgs, nil
	}
	// A copy, so that the rest of the array is let go.
	kept = append([]inventory.Package(nil), pkgs[:granted]...)
	if first {
		err = PackageCutError(in.Budget, len(pkgs)-granted, len(pkgs))
	}
	return kept, err
}

// PackageCutError is the error of the first file of a layer whose packages
// the scan's package limit cut: cut of the file's n packages were left out
// (n = 0: the file was not read at all), and the package files after it in
// the layer are not read.
func PackageCutError(b *Budget, cut, n int) error {
	if n == 0 {
		return fmt.Errorf("%w: the scan reports at most %d language packages: this file and the package files after it in this layer are not read", ErrBudget, b.PackageLimit())
	}
	return fmt.Errorf("%w: the scan reports at most %d language packages: %d of this file's %d packages are left out, and the package files after it in this layer are not read",
		ErrBudget, b.PackageLimit(), cut, n)
}
