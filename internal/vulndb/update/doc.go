// Package update fetches advisories from mirrors and builds drydock's
// vulnerability database with vulndb.Builder (Run). It is the only package
// with an HTTP client; the reader, internal/vulndb, stays network-free.
//
// # Mirror layout
//
// Run reads mirrors: http(s) base URLs or local directories (also as
// file:// URLs), tried in order for every file. The layout is the public OSV
// bucket's, with optional native feeds beside it:
//
//	<base>/<Ecosystem>/all.zip                          OSV, e.g. "Rocky Linux/all.zip"
//	                                                    (URL-escaped over http)
//	<base>/alpine-secdb/<branch>/main.json              Alpine secdb, branch "v3.16" or "edge"
//	<base>/alpine-secdb/<branch>/community.json
//	<base>/cisa-kev/known_exploited_vulnerabilities.json
//	<base>/nvd/<name>.json or <name>.json.gz            NVD files of any shape vulndb.ParseNVD reads
//	<base>/malware-hashes/<name>.txt, .csv, .gz         hash lists of known-bad files (vulndb.ParseHashList)
//	<base>/drydock-native.json                          index of the native files
//
// drydock-native.json lists the native files by path relative to the base:
//
//	{"files": ["alpine-secdb/v3.16/main.json", "cisa-kev/known_exploited_vulnerabilities.json", "nvd/nvdcve-2.0-2024.json.gz"]}
//
// An http mirror carries native files only through this index (a directory
// cannot be listed over http). A local directory without an index is
// listed instead. The native files are taken from the first mirror that has
// an index (or, locally, any native file); each listed file is then fetched
// with the same fallback over all mirrors. Native sources can also be given
// explicitly (Options.Native), which replaces a mirror's file of the
// same name.
//
// # Origins
//
// A native feed that neither the mirrors nor Options.Native carry is
// fetched from its publisher, so that a plain update (the OSV bucket, which
// has no drydock-native.json) still gets it:
//
//	DefaultAlpineSecDB  https://secdb.alpinelinux.org: the index page lists the
//	                    branch directories; <branch>/main.json and
//	                    <branch>/community.json of each are fetched
//	DefaultKEV          https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json
//
// Options.AlpineSecDB and Options.KEV replace them (a URL or a local path;
// Off turns one off). NVD has no default origin: its full feed is several
// hundred MB. It is read from a mirror's nvd/ files or from Options.Native.
//
// # Failures
//
// A mirror file that every mirror answers with 404 is a warning ("not
// published by any mirror"); an error on one mirror moves on to the next; a
// mirror file that no mirror serves because of errors fails the update. A
// file fetched from one place of its own (an origin, Options.Native) that
// fails is a warning naming the URL and the reason; if an earlier update
// downloaded it, that copy is used (with a warning), otherwise the feed is
// left out. Every feed left out — unpublished, failed, turned off — is
// listed in the database's Metadata.Missing, so a scan can report partial
// coverage. An Alpine branch without a community.json (v3.2) is not a gap.
// When nothing at all could be fetched, the error lists every source, where
// it was looked for and why it failed.
//
// Downloads are kept in the cache directory with their ETag and
// Last-Modified and re-fetched conditionally. When every source is the
// same file from the same place as recorded in the existing database, the
// same feeds are missing, and the database reads whole (vulndb.Status), it
// is left alone ("up to date"). Old downloads of URLs no longer used are
// not pruned.
//
// # Lock
//
// Run holds an exclusive lock on <database>.lock (flock(2); the kernel
// releases it if the process dies) from the first fetch to the rename of
// the new database. A second update of the same database waits for it
// (Options.LockWait, default DefaultLockWait), saying who holds it, then
// runs against the first one's result.
//
// # OCI artifacts
//
// Push and Pull (oci.go) move a built database through an OCI registry as
// a signed artifact: Push signs the manifest digest with internal/attest
// (the signature of drydock attest), Pull verifies it against a public key
// before it downloads anything, checks the content against the signed
// manifest while it streams, and renames under the same lock as Run. See
// docs/database.md.
package update
