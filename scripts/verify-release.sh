#!/usr/bin/env bash
# verify-release.sh [OPTIONS] FILE [ARGS...]
#
# Checks a downloaded drydock release file before anything runs it, then
# makes it executable and, when ARGS are given, runs it with them:
#
#   1. the signature of SHA256SUMS with the release public key, using only
#      openssl (openssl dgst -sha256 -verify), so no drydock code is trusted
#      before it is verified;
#   2. FILE's SHA-256 against its line in that SHA256SUMS (by file name);
#   3. with --sha256, FILE's SHA-256 against that pinned value too.
#
# Options:
#   --pubkey PEM     release public key (required unless --no-signature)
#   --sums FILE      the release's SHA256SUMS (default: SHA256SUMS beside FILE)
#   --sig FILE       its signature (default: the --sums file with .sig appended)
#   --sha256 HEX     a pinned checksum of FILE (64 hex digits)
#   --no-signature   skip steps 1 and 2: then --sha256 is required, since a
#                    SHA256SUMS from the same place as FILE proves nothing
#
# It fails closed: a missing key, signature, SHA256SUMS line or checksum, a
# bad signature or a mismatch exits non-zero, deletes FILE (so a later step
# cannot run it by mistake) and runs nothing. action.yml and the GitLab
# template (ci/gitlab/drydock.gitlab-ci.yml) call it; scripts/release_test.go
# tests it offline.
set -euo pipefail

usage() {
  echo "usage: verify-release.sh [--pubkey PEM] [--sums FILE] [--sig FILE] [--sha256 HEX] [--no-signature] FILE [ARGS...]" >&2
  exit 2
}

pubkey= sums= sig= pinned= nosig=false
while [ $# -gt 0 ]; do
  case "$1" in
    --pubkey) [ $# -ge 2 ] || usage; pubkey=$2; shift 2 ;;
    --sums) [ $# -ge 2 ] || usage; sums=$2; shift 2 ;;
    --sig) [ $# -ge 2 ] || usage; sig=$2; shift 2 ;;
    --sha256) [ $# -ge 2 ] || usage; pinned=$2; shift 2 ;;
    --no-signature) nosig=true; shift ;;
    --) shift; break ;;
    -*) echo "verify-release: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage
file=$1
shift

reject() {
  echo "verify-release: $*" >&2
  rm -f -- "$file"
  exit 1
}

# sha256sum on Linux runners, shasum on macOS ones.
if command -v sha256sum >/dev/null 2>&1; then
  check=(sha256sum --check --strict)
else
  check=(shasum --algorithm 256 --check --strict)
fi
# check_sum HEX: FILE has this SHA-256, which must be exactly 64 hex digits
# (an empty value must not become "nothing to check").
check_sum() {
  local want
  want=$(printf '%s' "$1" | tr 'A-F' 'a-f')
  [[ $want =~ ^[0-9a-f]{64}$ ]] || reject "$2 is not 64 hex digits: '$1'"
  printf '%s  %s\n' "$want" "$file" | "${check[@]}" >&2 || reject "sha256 mismatch for $file (want $want, from $2)"
}

[ -f "$file" ] || reject "no such file: $file"

if [ "$nosig" = true ]; then
  [ -n "$pinned" ] || reject "--no-signature needs --sha256: without the signature only a pinned checksum can tell the release is the one you meant"
  echo "verify-release: WARNING: signature not checked (--no-signature); checking the pinned sha256 only" >&2
  check_sum "$pinned" "the pinned --sha256"
else
  [ -n "$pubkey" ] || reject "no --pubkey: the signature of SHA256SUMS cannot be checked (use --no-signature with --sha256 for an unsigned release)"
  [ -n "$sums" ] || sums="$(dirname -- "$file")/SHA256SUMS"
  [ -n "$sig" ] || sig="$sums.sig"
  [ -f "$pubkey" ] || reject "no such public key: $pubkey"
  [ -f "$sums" ] || reject "no SHA256SUMS: $sums"
  [ -f "$sig" ] || reject "no signature: $sig (an unsigned release? use --no-signature with --sha256 to accept one)"
  command -v openssl >/dev/null 2>&1 || reject "openssl is not installed: cannot check the signature"
  # An unreadable key (a private key, a certificate, not PEM) is said as
  # such, not as a bad signature.
  openssl pkey -pubin -in "$pubkey" -noout >/dev/null 2>&1 ||
    reject "cannot read $pubkey as a PEM public key (want the release's public key, e.g. release/drydock-release.pub)"
  openssl dgst -sha256 -verify "$pubkey" -signature "$sig" "$sums" >&2 ||
    reject "the signature $sig of $sums does not verify with $pubkey"
  # The line for FILE's name: "<hex>  <name>" (or "<hex> *<name>"), exactly one.
  name=$(basename -- "$file")
  lines=$(awk -v n="$name" 'NF == 2 { f = $2; sub(/^\*/, "", f); if (f == n) print $1 }' "$sums")
  [ -n "$lines" ] || reject "$sums has no line for $name"
  [ "$(printf '%s\n' "$lines" | wc -l)" -eq 1 ] || reject "$sums lists $name more than once"
  check_sum "$lines" "the signed $sums"
  if [ -n "$pinned" ]; then
    check_sum "$pinned" "the pinned --sha256"
  fi
fi

chmod 0755 -- "$file"
if [ $# -gt 0 ]; then
  # A bare name would be looked up in PATH: run the file that was checked.
  case "$file" in */*) ;; *) file="./$file" ;; esac
  exec "$file" "$@"
fi
