-- Texts (and later calls and webhooks) the business sends, as rows a worker sends and retries.
-- Keep in step with migrations/sqlite/0003_outbox.sql. Times here are wall-clock instants in
-- Unix milliseconds (the worker's clock, not the business's calendar).
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    body            TEXT NOT NULL,
    -- The call that led to it, if any.
    call_id         TEXT,
    -- The same message asked for twice (a retried turn) is queued once.
    dedupe_key      TEXT NOT NULL UNIQUE,
    -- pending, sending (leased by a worker until lease_until_ms), sent, failed, skipped
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    lease_until_ms  BIGINT,
    last_error      TEXT,
    provider_id     TEXT,
    created_ms      BIGINT NOT NULL,
    sent_ms         BIGINT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_ms);
CREATE INDEX outbox_call ON outbox (call_id);

-- Numbers that texted STOP (and not START since): nothing is texted to them.
CREATE TABLE opt_outs (
    phone        TEXT PRIMARY KEY,
    opted_out_ms BIGINT NOT NULL
);
