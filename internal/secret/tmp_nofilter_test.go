package secret

import (
	"os"
	"testing"
)

func TestTmpNoFilter(t *testing.T) {
	root := os.Getenv("TMP_ROOT")
	if root == "" {
		t.Skip()
	}
	s := newScanner(t, nil)
	hits, st := scanDir(t, s, root, false)
	t.Logf("%+v", st)
	for _, h := range hits {
		t.Log(h)
	}
}
