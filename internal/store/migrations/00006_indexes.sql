-- The admission gate looks images up by digest alone (store.ImagesByDigest),
-- cold, on the path of a deploy: the unique (repository, manifest_digest)
-- index cannot serve a lookup without the repository. Not partial on
-- index_digest <> '': a prepared statement's generic plan could not use it.

-- +goose Up
CREATE INDEX images_manifest_digest ON images (manifest_digest);
CREATE INDEX images_index_digest ON images (index_digest);

-- +goose Down
DROP INDEX images_index_digest;
DROP INDEX images_manifest_digest;
