-- drydock's store: images, their layers (analysed once per extractor set),
-- inventories, a package → image reverse index, findings with their
-- history, advisory database versions and events.

-- +goose Up
CREATE TABLE images (
    id              BIGSERIAL PRIMARY KEY,
    repository      TEXT        NOT NULL DEFAULT '',
    manifest_digest TEXT        NOT NULL,
    index_digest    TEXT        NOT NULL DEFAULT '',
    platform        TEXT        NOT NULL DEFAULT '',
    config_digest   TEXT        NOT NULL DEFAULT '',
    image           JSONB       NOT NULL, -- inventory.Image: config, history, layers (redacted)
    first_seen      TIMESTAMPTZ NOT NULL,
    last_seen       TIMESTAMPTZ NOT NULL,
    UNIQUE (repository, manifest_digest)
);

CREATE TABLE image_tags (
    image_id   BIGINT      NOT NULL REFERENCES images ON DELETE CASCADE,
    tag        TEXT        NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen  TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ,
    PRIMARY KEY (image_id, tag)
);

-- The per-layer result, the unit of analysis: keyed like the CLI's layer
-- cache (diff_id + every extractor's name@version + the pipeline version),
-- so a base layer shared by a thousand images is read once.
CREATE TABLE layer_results (
    cache_key   TEXT        PRIMARY KEY,
    diff_id     TEXT        NOT NULL,
    result      JSONB       NOT NULL,
    analysed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX layer_results_diff_id ON layer_results (diff_id);

CREATE TABLE image_layers (
    image_id BIGINT NOT NULL REFERENCES images ON DELETE CASCADE,
    position INT    NOT NULL,
    diff_id  TEXT   NOT NULL,
    digest   TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (image_id, position)
);
CREATE INDEX image_layers_diff_id ON image_layers (diff_id);

-- The inventory of every image (distro, packages, notes): what re-matching
-- reads, so that no image is pulled again when advisories change.
CREATE TABLE inventories (
    image_id   BIGINT      PRIMARY KEY REFERENCES images ON DELETE CASCADE,
    inventory  JSONB       NOT NULL,
    versions   JSONB       NOT NULL,
    -- what the last match knew: the database it used and its coverage
    scan       JSONB       NOT NULL DEFAULT '{}',
    scanned_at TIMESTAMPTZ NOT NULL
);

-- package → image reverse index.
CREATE TABLE image_packages (
    image_id    BIGINT NOT NULL REFERENCES images ON DELETE CASCADE,
    package_id  TEXT   NOT NULL,
    ecosystem   TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    version     TEXT   NOT NULL,
    source_name TEXT   NOT NULL DEFAULT '',
    purl        TEXT   NOT NULL DEFAULT '',
    layer_index INT    NOT NULL DEFAULT -1,
    PRIMARY KEY (image_id, package_id)
);
CREATE INDEX image_packages_name ON image_packages (ecosystem, name, version);
CREATE INDEX image_packages_source ON image_packages (ecosystem, source_name);

-- Findings per image, with their history: first seen, last seen, resolved.
CREATE TABLE findings (
    image_id      BIGINT      NOT NULL REFERENCES images ON DELETE CASCADE,
    finding_key   TEXT        NOT NULL, -- "<advisory id>@<package id>"
    advisory_id   TEXT        NOT NULL,
    aliases       TEXT[]      NOT NULL DEFAULT '{}',
    package_id    TEXT        NOT NULL,
    severity      TEXT        NOT NULL,
    fixed_version TEXT        NOT NULL DEFAULT '',
    kev           BOOLEAN     NOT NULL DEFAULT false,
    finding       JSONB       NOT NULL,
    first_seen    TIMESTAMPTZ NOT NULL,
    last_seen     TIMESTAMPTZ NOT NULL,
    resolved_at   TIMESTAMPTZ,
    PRIMARY KEY (image_id, finding_key)
);
CREATE INDEX findings_advisory ON findings (advisory_id);
CREATE INDEX findings_aliases ON findings USING GIN (aliases);
CREATE INDEX findings_open ON findings (image_id) WHERE resolved_at IS NULL;

CREATE TABLE db_versions (
    id         BIGSERIAL   PRIMARY KEY,
    built_at   TIMESTAMPTZ NOT NULL,
    sources    JSONB       NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
);

-- Events: what changed for which image. The idempotency key makes a
-- re-run (a worker retried after a crash, a DB applied twice) a no-op.
CREATE TABLE events (
    id              BIGSERIAL   PRIMARY KEY,
    kind            TEXT        NOT NULL, -- "finding.new", "finding.resolved"
    image_id        BIGINT      NOT NULL REFERENCES images ON DELETE CASCADE,
    advisory_id     TEXT        NOT NULL DEFAULT '',
    package_id      TEXT        NOT NULL DEFAULT '',
    payload         JSONB       NOT NULL,
    idempotency_key TEXT        NOT NULL UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE events;
DROP TABLE db_versions;
DROP TABLE findings;
DROP TABLE image_packages;
DROP TABLE inventories;
DROP TABLE image_layers;
DROP TABLE layer_results;
DROP TABLE image_tags;
DROP TABLE images;
