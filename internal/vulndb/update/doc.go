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
// A file that every mirror answers with 404 is a warning ("not published by
// any mirror"); an error on one mirror moves on to the next; a file that no
// mirror serves because of errors fails the update. Downloads are kept in
// the cache directory with their ETag and Last-Modified and re-fetched
// conditionally; when every source has the digest recorded in the existing
// database, the database is left alone ("up to date"). Old downloads of URLs
// no longer used are not pruned.
package update
