// Command mustparse calls golang.org/x/text/language.MustParse, one of the
// functions of GO-2021-0113, and none of the functions of GO-2022-1059
// (MatchStrings, ParseAcceptLanguage), which both affect x/text v0.3.5:
// built, it holds the language package but not those two functions.
package main

import (
	"fmt"
	"os"

	"golang.org/x/text/language"
)

func main() {
	tag := language.MustParse("en-US")
	fmt.Fprintln(os.Stdout, tag.String())
}
