// Command testapp is a tiny program whose only purpose is to be built by the
// gobinary extractor's tests: it links golang.org/x/text v0.3.5 (a version
// with known advisories GO-2021-0113 and GO-2022-1059), a replaced module and
// a local module.
package main

import (
	"fmt"

	"example.com/drydock/local"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/language"
)

func main() {
	tag, _ := language.Parse("en-US")
	fmt.Println(tag, cmp.Equal(1, 1), local.Name)
}
