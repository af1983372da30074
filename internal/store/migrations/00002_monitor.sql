-- Continuous monitoring: what each image's last match looked up in the
-- advisory database (so that a new database re-matches only the images
-- whose lookups now answer differently), the state of that match, the
-- database versions applied, and webhooks with their delivery outbox.

-- +goose Up

-- One row per lookup an image's last match made in the advisory database:
-- kind 'advisories' (ecosystem, package name), 'cve' (name = the CVE id,
-- NVD and KEV data) or 'ecosystems' (ecosystem = a prefix such as
-- "Red Hat:enterprise_linux:9", the ecosystems the database holds under
-- it). fingerprint is the SHA-256 of the answer the match saw.
CREATE TABLE image_match_keys (
    image_id    BIGINT NOT NULL REFERENCES images ON DELETE CASCADE,
    kind        TEXT   NOT NULL,
    ecosystem   TEXT   NOT NULL DEFAULT '',
    name        TEXT   NOT NULL DEFAULT '',
    fingerprint BYTEA  NOT NULL,
    PRIMARY KEY (image_id, kind, ecosystem, name)
);
CREATE INDEX image_match_keys_key ON image_match_keys (kind, ecosystem, name);

-- The match the keys belong to: the inventory it read (scanned_at of
-- inventories: a new scan makes the keys stale), the code that matched
-- (matcher and enricher versions) and the database.
CREATE TABLE image_match_state (
    image_id    BIGINT      PRIMARY KEY REFERENCES images ON DELETE CASCADE,
    scanned_at  TIMESTAMPTZ NOT NULL,
    versions    TEXT        NOT NULL,
    db_built_at TIMESTAMPTZ NOT NULL,
    matched_at  TIMESTAMPTZ NOT NULL
);

-- A database version is applied once: applying it again updates the row.
CREATE UNIQUE INDEX db_versions_built_at ON db_versions (built_at);
ALTER TABLE db_versions
    ADD COLUMN completed_at TIMESTAMPTZ,
    ADD COLUMN images_rematched INT NOT NULL DEFAULT 0,
    ADD COLUMN events INT NOT NULL DEFAULT 0;

CREATE INDEX events_image ON events (image_id, id);

-- Webhooks: where events are posted. secret is sealed with the server's
-- key (package secretbox) and never returned; kinds filters the events
-- (empty: all).
CREATE TABLE webhooks (
    id         BIGSERIAL   PRIMARY KEY,
    url        TEXT        NOT NULL,
    secret     TEXT        NOT NULL,
    kinds      TEXT[]      NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL
);

-- The outbox: one delivery per (event, webhook), inserted in the
-- transaction that inserts the event. A dispatcher claims due deliveries
-- (SKIP LOCKED, with a lease so a worker killed mid-request leaves the
-- delivery to another), posts them, and either marks them delivered or
-- schedules the next attempt with exponential back-off; after the last
-- attempt the delivery is 'failed' with its last error.
CREATE TABLE webhook_deliveries (
    id              BIGSERIAL   PRIMARY KEY,
    event_id        BIGINT      NOT NULL REFERENCES events ON DELETE CASCADE,
    webhook_id      BIGINT      NOT NULL REFERENCES webhooks ON DELETE CASCADE,
    state           TEXT        NOT NULL DEFAULT 'pending', -- pending, delivered, failed
    attempts        INT         NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_until   TIMESTAMPTZ,
    last_status     INT         NOT NULL DEFAULT 0,
    last_error      TEXT        NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ,
    UNIQUE (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP INDEX events_image;
ALTER TABLE db_versions DROP COLUMN completed_at, DROP COLUMN images_rematched, DROP COLUMN events;
DROP INDEX db_versions_built_at;
DROP TABLE image_match_state;
DROP TABLE image_match_keys;
