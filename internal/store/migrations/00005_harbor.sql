-- The Harbor scanner adapter's scan requests: the ID Harbor polls with, the
-- job that scans the artifact, and the artifact as Harbor named it (echoed
-- in the reports). Requests older than the adapter's retention are deleted
-- when new ones arrive; Harbor treats an unknown ID as a failed scan and
-- asks again.

-- +goose Up
CREATE TABLE harbor_scans (
    id         TEXT        PRIMARY KEY, -- a random UUID
    job_id     BIGINT      NOT NULL,    -- the River job (river_job.id)
    repository TEXT        NOT NULL,    -- the image's repository in the store: <registry host>/<repository>
    digest     TEXT        NOT NULL,    -- the manifest digest Harbor asked for
    artifact   JSONB       NOT NULL,    -- the request's artifact: repository, digest, tag, mime_type
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX harbor_scans_created_at ON harbor_scans (created_at);

-- +goose Down
DROP TABLE harbor_scans;
