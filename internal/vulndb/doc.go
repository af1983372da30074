// Package vulndb is drydock's local vulnerability database: the advisory
// model, the importers (OSV, Alpine secdb, NVD, CISA KEV), the builder and
// the embedded store. It reads files and never touches the network.
//
// Fetching the sources from mirrors lives in internal/vulndb/update
// (update.Run), which imports this package and is the only one with an HTTP
// client: a scan links the reader, not the updater (TestReaderDoesNoNetworkIO
// guards this). The mirror layout is documented there.
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
//	hashes/<SHA-256, 32 bytes>    JSON: a known-bad file's list and name
//	                              (only when hash lists were imported)
//
// <ecosystem> is the full OSV ecosystem with its release ("AlmaLinux:9",
// "Alpine:v3.16", "Ubuntu:22.04:LTS", "npm"); lookups are exact. <name> is the
// name as published, normalised where the ecosystem says names are
// equivalent (NormalizeName: PyPI per PEP 503, NuGet and Packagist lower
// case); Advisory.Package keeps the published spelling.
//
// Metadata.Missing lists the feeds an update meant to import and could not
// (see package update), for scans to report partial coverage. Status and
// DB.Check read the whole file, so a database they accept is one a scan
// can read.
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
// Malicious-package records (OpenSSF's MAL- records, which osv.dev serves in
// the same all.zip archives) are imported with the OSV rules and stored
// beside the vulnerabilities of their package with Class ClassMalicious
// (an ID starting "MAL-", or a database_specific
// "malicious-packages-origins" list); the matcher turns them into malware
// findings, never vulnerabilities. A database written before the class was
// stored is read the same way (Advisory.Malicious looks at the ID).
//
// Alpine secdb ({branch}/{main,community}.json): one Advisory per (id, origin
// package), ecosystem "Alpine:<branch>" ("Alpine:v3.16"; the edge branch is
// "Alpine:edge"), range introduced "0" fixed <version>, id = first token of
// the secfix ("CVE-2017-2616 (+ regression fix)" → "CVE-2017-2616"),
// ALPINE-NNNN and other ids kept. Fixed version "0" means never affected: not
// stored, only counted. An id listed under several versions of one package
// takes the highest (apk order).
//
// Hash lists of known-bad files (ParseHashList: SHA-256 digests one per
// line, or a CSV export with a SHA-256 column such as MalwareBazaar's) fill
// the hashes bucket; Metadata.Hashes counts them and HashListsKey names
// the lists. The first list that names a file gives its name.
//
// NVD (API 2.0 cve objects, 2.0 bulk feeds, 1.1 feed items and feeds,
// optionally gzipped) and the CISA KEV catalog fill the cves bucket. The NVD
// score is the first Primary metric in the order CVSS v4.0, v3.1, v3.0, v2.
package vulndb
