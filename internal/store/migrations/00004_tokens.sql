-- API tokens: only the SHA-256 of each token is kept (a token is 32 random
-- bytes, so a fast hash is enough: nobody can guess 256 bits, and a slow
-- password hash would cost every API request tens of milliseconds of CPU).

-- +goose Up
CREATE TABLE api_tokens (
    id           BIGSERIAL   PRIMARY KEY,
    name         TEXT        NOT NULL,
    -- read: results; write: also queue scans and change configuration
    scope        TEXT        NOT NULL CHECK (scope IN ('read', 'write')),
    hash         BYTEA       NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    -- updated at most once a minute per token
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

-- +goose Down
DROP TABLE api_tokens;
