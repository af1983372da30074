package main

import (
	"os"
	"strconv"

	"golang.org/x/term"
)

// terminalWidth is the width of the terminal on stdout, $COLUMNS, or 120.
func terminalWidth() int {
	if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w > 0 {
		return w
	}
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		return c
	}
	return 120
}
