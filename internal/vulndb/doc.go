// Package vulndb is drydock's local vulnerability database: the advisory
// model, the importers (OSV, Alpine secdb, NVD, CISA KEV), the embedded store
// and its update from mirrors.
//
// # Store
//
// The database is one bbolt file (go.etcd.io/bbolt), by default
// $DRYDOCK_CACHE_DIR/db/drydock.db or <user cache dir>/drydock/db/drydock.db.
// SQLite was ruled out because the rpmdb reader already registers a pure-Go
// "sqlite" database/sql driver and a second one would clash. A read-only
// bbolt open takes about a millisecond and a package lookup tens of
// microseconds (BenchmarkOpen, BenchmarkLookup).
//
// Buckets (see store.go):
//
//	meta/schema, meta/metadata    schema version, Metadata as JSON
//	records/<advisory id>         zstd(JSON): aliases, summary, details, dates,
//	                              references — stored once per advisory
//	packages/<ecosystem>/<name>   zstd(JSON array): the per-package part of
//	                              every advisory of that package (ranges,
//	                              versions, severities, status, source)
//	cves/<CVE id>                 JSON CVE: NVD score and KEV flag
//
// <ecosystem> is the full OSV ecosystem with its release ("AlmaLinux:9",
// "Alpine:v3.16", "Ubuntu:22.04:LTS", "npm"); lookups are exact. <name> is the
// name as published, normalised where the ecosystem says names are
// equivalent (NormalizeName: PyPI per PEP 503, NuGet and Packagist lower
// case); Advisory.Package keeps the published spelling.
//
// A database is never modified in place: Builder writes a new file next to
// the target and renames it over the old one, so a reader keeps working on
// the file it opened and an interrupted update leaves the old database as it
// was.
//
// # Import rules
//
// OSV (all.zip, one <ID>.json per advisory): withdrawn records are skipped;
// one Advisory per (ecosystem, package) of "affected", entries of the same
// package merged; ECOSYSTEM and SEMVER ranges kept, GIT ranges dropped;
// severity from severity[] and affected[].severity (CVSS_V2/V3/V4); vendor
// severity from a Red Hat style summary prefix ("Important: …"), from
// Ubuntu's {"type": "Ubuntu"} severity or ubuntu_priority, or from Debian's
// urgency ("not yet assigned" counts as none); aliases are aliases ∪
// upstream, plus the CVE ids of "related" when the record has no CVE id of its
// own (AlmaLinux, Rocky, Ubuntu CVE records). Status "wont_fix"/"unfixed" is
// read from a "status"/"fix_status"/"fix_state"/"state" key in
// ecosystem_specific or database_specific. Details are cut to MaxDetails
// bytes and references to MaxReferences.
//
// Alpine secdb ({branch}/{main,community}.json): one Advisory per (id, origin
// package), ecosystem "Alpine:<branch>" ("Alpine:v3.16"; the edge branch is
// "Alpine:edge"), range introduced "0" fixed <version>, id = first token of
// the secfix ("CVE-2017-2616 (+ regression fix)" → "CVE-2017-2616"),
// ALPINE-NNNN and other ids kept. Fixed version "0" means never affected: not
// stored, only counted. An id listed under several versions of one package
// takes the highest (apk order).
//
// NVD (API 2.0 cve objects, 2.0 bulk feeds, 1.1 feed items and feeds,
// optionally gzipped) and the CISA KEV catalog fill the cves bucket. The NVD
// score is the first Primary metric in the order CVSS v4.0, v3.1, v3.0, v2.
//
// # Mirror layout
//
// Update reads mirrors: http(s) base URLs or local directories (also as
// file:// URLs), tried in order for every file. The layout is the public OSV
// bucket's, with optional native feeds beside it:
//
//	<base>/<Ecosystem>/all.zip                          OSV, e.g. "Rocky Linux/all.zip"
//	                                                    (URL-escaped over http)
//	<base>/alpine-secdb/<branch>/main.json              Alpine secdb, branch "v3.16" or "edge"
//	<base>/alpine-secdb/<branch>/community.json
//	<base>/cisa-kev/known_exploited_vulnerabilities.json
//	<base>/nvd/<name>.json or <name>.json.gz            NVD files of any shape ParseNVD reads
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
// explicitly (UpdateOptions.Native), which replaces a mirror's file of the
// same name.
//
// A file that every mirror answers with 404 is a warning ("not published by
// any mirror"); an error on one mirror moves on to the next; a file that no
// mirror serves because of errors fails the update. Downloads are kept in
// the cache directory with their ETag and Last-Modified and re-fetched
// conditionally; when every source has the digest recorded in the existing
// database, the database is left alone ("up to date"). Old downloads of URLs
// no longer used are not pruned.
package vulndb
