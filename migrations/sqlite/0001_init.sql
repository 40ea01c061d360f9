-- Frontdesk schema, SQLite flavour. Keep in step with migrations/postgres/0001_init.sql.
-- Business-local civil times are TEXT: appointment starts 'YYYY-MM-DDTHH:MM', call stamps
-- 'YYYY-MM-DDTHH:MM:SS'; both sort and compare correctly as text.

-- Mirrors config/business.yaml (written by sync_business). Rows are deactivated, never deleted,
-- because appointments keep pointing at them.
CREATE TABLE locations (
    code     TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity >= 0),
    active   BOOLEAN NOT NULL DEFAULT TRUE
);

-- One row per open weekday (ISO: 1 = Monday .. 7 = Sunday); times 'HH:MM'.
CREATE TABLE business_hours (
    weekday    INTEGER PRIMARY KEY CHECK (weekday BETWEEN 1 AND 7),
    open_time  TEXT NOT NULL,
    close_time TEXT NOT NULL
);

CREATE TABLE customers (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    phone TEXT NOT NULL UNIQUE,
    name  TEXT NOT NULL
);

CREATE TABLE calls (
    id          TEXT PRIMARY KEY,
    caller      TEXT NOT NULL,
    called      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    outcome     TEXT,
    transfer_to TEXT
);

-- created_by_call is UNIQUE: one booking per call, which makes booking idempotent per call id.
-- The call ids are not foreign keys, so tooling can book without recording a call.
CREATE TABLE appointments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    location        TEXT NOT NULL REFERENCES locations (code),
    start_at        TEXT NOT NULL,
    customer_id     INTEGER NOT NULL REFERENCES customers (id),
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    phone           TEXT NOT NULL,
    issue           TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
    created_by_call TEXT NOT NULL UNIQUE,
    updated_by_call TEXT
);

CREATE INDEX appointments_slot ON appointments (location, start_at) WHERE status = 'booked';
CREATE INDEX appointments_phone ON appointments (phone, start_at);
CREATE INDEX appointments_name ON appointments (name_key, start_at);
CREATE INDEX appointments_updated_by ON appointments (updated_by_call);

CREATE TABLE call_turns (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    speaker TEXT NOT NULL CHECK (speaker IN ('caller', 'agent')),
    content TEXT NOT NULL,
    state   TEXT,
    PRIMARY KEY (call_id, seq)
);

-- detail is JSON text (JSONB on PostgreSQL).
CREATE TABLE call_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL
);

CREATE INDEX call_events_call ON call_events (call_id, id);
