package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/testimage"
)

// TestVerifiedProvenanceNamesTheBase (issues 17 and 18): the verified SLSA
// provenance of an image names its base by digest in resolvedDependencies;
// with --verify-key the base-image attribution says the provenance decided,
// without it the layers do. The verify stage's answer reaches the scan.
func TestVerifiedProvenanceNamesTheBase(t *testing.T) {
	reg := testimage.StartRegistryWith(t, testimage.RegistryBinary(t), testimage.RegistryOptions{})
	baseRef, baseDigest := pushAlpine(t, reg.Host)
	app := appImage(t, mustImage(t, baseRef))
	appRef := reg.Host + "/team/app:1"
	if err := remote.Write(mustTag(t, appRef), app); err != nil {
		t.Fatal(err)
	}
	appDigest, err := app.Digest()
	if err != nil {
		t.Fatal(err)
	}
	priv, pub := keyFiles(t)
	pred := slsaPredicate()
	deps := pred["buildDefinition"].(map[string]any)["resolvedDependencies"].([]map[string]any)
	pred["buildDefinition"].(map[string]any)["resolvedDependencies"] = append(deps, map[string]any{
		"uri": "pkg:docker/" + reg.Host + "/team/alpine@3.16.9?platform=linux%2Famd64", "digest": map[string]string{"sha256": baseDigest.Hex}})
	signAndAttach(t, priv, appRef, appDigest, cosignSignPredicate, map[string]any{})
	signAndAttach(t, priv, appRef, appDigest, slsaV1Predicate, pred)

	cache := t.TempDir()
	if res := drydockIn(t, cache, "base", "add", baseRef); res.code != 0 {
		t.Fatalf("base add: exit %d\n%s", res.code, res.stderr)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		signal string
	}{
		{"verified", []string{"--verify-key", pub, "--require-signature"}, "provenance"},
		{"not verified", nil, "layer-chain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r.json")
			res := drydockIn(t, cache, append(append([]string{"image", "--db", testDB, "--format", "json=" + out}, tc.args...), appRef)...)
			if res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			rep := readJSONReport(t, out)
			b := rep.BaseImage
			if b == nil || b.Signal != tc.signal || b.ManifestDigest != baseDigest.String() || b.Layers != 1 {
				raw, _ := json.Marshal(b)
				t.Errorf("base %s; want %s by %s, 1 layer", raw, baseDigest, tc.signal)
			}
		})
	}
}
