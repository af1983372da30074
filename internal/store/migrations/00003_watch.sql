-- The registry watch: registries whose repositories are polled, and the
-- state of every tag seen there (which digest it points to, since when, and
-- when it was deleted).

-- +goose Up
CREATE TABLE registries (
    id               BIGSERIAL   PRIMARY KEY,
    name             TEXT        NOT NULL UNIQUE,
    host             TEXT        NOT NULL,                -- "registry.example.com[:port]"
    insecure         BOOLEAN     NOT NULL DEFAULT false,  -- plain HTTP / TLS unverified
    repositories     TEXT[]      NOT NULL DEFAULT '{}',   -- names or path.Match globs; empty: the whole catalog
    credentials      TEXT        NOT NULL DEFAULT '',     -- sealed with the server's key (package secretbox); '' none
    interval_seconds INT         NOT NULL CHECK (interval_seconds > 0),
    created_at       TIMESTAMPTZ NOT NULL,
    last_polled_at   TIMESTAMPTZ,                         -- when the last poll started
    last_error       TEXT        NOT NULL DEFAULT ''      -- what the last poll could not do; '' if it did everything
);

CREATE TABLE watched_tags (
    registry_id BIGINT      NOT NULL REFERENCES registries ON DELETE CASCADE,
    repository  TEXT        NOT NULL, -- in the registry: "team/app"
    tag         TEXT        NOT NULL,
    digest      TEXT        NOT NULL, -- what the tag last pointed to (manifest or index)
    first_seen  TIMESTAMPTZ NOT NULL,
    last_seen   TIMESTAMPTZ NOT NULL,
    changed_at  TIMESTAMPTZ NOT NULL, -- when it was last pushed, moved or restored
    removed_at  TIMESTAMPTZ,          -- when the watch found it deleted
    PRIMARY KEY (registry_id, repository, tag)
);

-- +goose Down
DROP TABLE watched_tags;
DROP TABLE registries;
