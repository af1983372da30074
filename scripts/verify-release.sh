#!/usr/bin/env bash
# verify-release.sh FILE SHA256 [ARGS...]
#
# Checks that FILE has the pinned SHA-256 and only then makes it executable
# and, when ARGS are given, runs it with them. It fails closed: a missing or
# malformed checksum, a missing file or a mismatch exits non-zero, deletes
# FILE (so a later step cannot run it by mistake) and runs nothing.
# action.yml calls it; scripts/release_test.go tests it offline.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: verify-release.sh FILE SHA256 [ARGS...]" >&2
  exit 2
fi
file=$1 want=$2
shift 2

reject() {
  echo "verify-release: $*" >&2
  rm -f -- "$file"
  exit 1
}

# Exactly 64 hex digits: an empty input must not become "nothing to check".
want=$(printf '%s' "$want" | tr 'A-F' 'a-f')
[[ $want =~ ^[0-9a-f]{64}$ ]] || reject "pinned sha256 is not 64 hex digits: '$want'"
[ -f "$file" ] || reject "no such file: $file"

# sha256sum on Linux runners, shasum on macOS ones; both read the
# "<hex>  <path>" line and check the file against it.
if command -v sha256sum >/dev/null 2>&1; then
  check=(sha256sum --check --strict)
else
  check=(shasum --algorithm 256 --check --strict)
fi
printf '%s  %s\n' "$want" "$file" | "${check[@]}" >&2 || reject "sha256 mismatch for $file (want $want)"

chmod 0755 -- "$file"
if [ $# -gt 0 ]; then
  exec "$file" "$@"
fi
