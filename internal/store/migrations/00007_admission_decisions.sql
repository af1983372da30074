-- The admission gate's decisions (package admission records every answer
-- of its webhook and of its Gatekeeper provider), for the dashboard's "who
-- was denied, why". Kept 30 days by the gate's own pruning.
--
-- The indexes end in id: the listing is newest first by (decided_at, id),
-- and pages on from a decision's (decided_at, id), so that decisions of the
-- same instant are neither skipped nor repeated.

-- +goose Up
CREATE TABLE admission_decisions (
    id         BIGSERIAL   PRIMARY KEY,
    decided_at TIMESTAMPTZ NOT NULL,
    source     TEXT        NOT NULL CHECK (source IN ('webhook', 'gatekeeper')),
    uid        TEXT        NOT NULL DEFAULT '', -- the AdmissionRequest's; '' for Gatekeeper
    namespace  TEXT        NOT NULL DEFAULT '',
    kind       TEXT        NOT NULL DEFAULT '', -- "apps/v1 Deployment"
    name       TEXT        NOT NULL DEFAULT '', -- the object's; '' if the request did not say
    username   TEXT        NOT NULL DEFAULT '', -- the request's userInfo.username
    operation  TEXT        NOT NULL DEFAULT '', -- CREATE, UPDATE, DELETE, CONNECT
    dry_run    BOOLEAN     NOT NULL DEFAULT false,
    outcome    TEXT        NOT NULL,            -- admission.Outcome*: allowed, warned, denied, fail_open, fail_closed
    reason     TEXT        NOT NULL DEFAULT '', -- the audit annotation's reason
    images     TEXT[]      NOT NULL DEFAULT '{}' -- the images judged
);

CREATE INDEX admission_decisions_decided_at ON admission_decisions (decided_at, id);
CREATE INDEX admission_decisions_outcome ON admission_decisions (outcome, decided_at, id);

-- +goose Down
DROP TABLE admission_decisions;
