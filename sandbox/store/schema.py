"""Tables, and the migrations from older versions. Every row carries its shop: the namespace
tests isolate on.

Written once for both backends: plain SQL with INTEGER, REAL, TEXT, and a few tokens each
backend's ``render`` fills in (store/sqlite.py, store/postgres.py):

- ``{row_id}``: an integer key, one past the largest (tables.insert_numbered);
  ``{auto_id}``: one the store assigns and never reuses;
- ``{rowid}``: insertion order, for tables listed ``ORDER BY rowid`` (SQLite has it already);
- ``{blob}``: bytes; ``{without_rowid}``: a table stored by its primary key.
"""

from __future__ import annotations

# Bump it with a new entry in MIGRATIONS: the statements that bring a store of the version
# before up to it. A store older than OLDEST_MIGRATABLE is refused with a message.
SCHEMA_VERSION = 11
OLDEST_MIGRATABLE = 9

JOURNAL_WORKERS = """
-- Every live worker process of every instance, by host and pid (store/db.py process_key).
CREATE TABLE IF NOT EXISTS journal_workers (
    worker TEXT PRIMARY KEY,
    acked_epoch INTEGER NOT NULL,
    heartbeat REAL NOT NULL
);
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- The fixtures' bulk, read back by workers when a reset needs it (store/templates.py).
CREATE TABLE IF NOT EXISTS fixture_rows (
    section TEXT NOT NULL,   -- 'orders:<shop handle>', 'psp:<section>' or 'light'
    seq INTEGER NOT NULL,
    body {blob} NOT NULL,
    PRIMARY KEY (section, seq)
){without_rowid};
CREATE TABLE IF NOT EXISTS clock (
    shop_id INTEGER PRIMARY KEY,  -- 0: the global clock, which shops without their own follow
    frozen_at TEXT,
    offset_seconds REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS shops (
    id {row_id},
    handle TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    domain TEXT NOT NULL,
    utc_offset TEXT NOT NULL,
    currency TEXT NOT NULL,
    fee_rule TEXT,
    rate_size INTEGER,
    rate_per_second REAL,
    shop_header INTEGER NOT NULL DEFAULT 0,
    strict INTEGER NOT NULL DEFAULT 0,
    request_shape TEXT NOT NULL DEFAULT 'example',
    template TEXT NOT NULL,
    credentials TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
    id {auto_id},
    shop_id INTEGER NOT NULL,
    app_id INTEGER NOT NULL,
    address TEXT NOT NULL,
    topic TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    disabled_at TEXT
);
CREATE TABLE IF NOT EXISTS faults (
    id {auto_id},
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    shop_id INTEGER,
    payment_id TEXT,
    path TEXT,
    remaining INTEGER,
    probability REAL,
    seed INTEGER NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    latency_ms INTEGER NOT NULL,
    delay_seconds REAL NOT NULL,
    seen INTEGER NOT NULL,
    fired INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_buckets (
    shop_id INTEGER NOT NULL,
    client TEXT NOT NULL,
    tokens REAL NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (shop_id, client)
);
CREATE TABLE IF NOT EXISTS apps (
    id {row_id},
    shop_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    scopes TEXT NOT NULL,
    activated INTEGER NOT NULL,
    activated_at TEXT,
    urls TEXT NOT NULL DEFAULT '{}',
    public_key TEXT,
    capture_flag TEXT NOT NULL DEFAULT 'published',
    status_query TEXT NOT NULL DEFAULT 'query',
    UNIQUE (shop_id, name)
);
CREATE TABLE IF NOT EXISTS tokens (
    {rowid}
    token TEXT PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    app_id INTEGER,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    expires_at TEXT,
    user_id INTEGER
);
CREATE TABLE IF NOT EXISTS orders (
    shop_id INTEGER NOT NULL,
    id INTEGER NOT NULL,
    order_no TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (shop_id, id)
);
CREATE TABLE IF NOT EXISTS payments (
    {rowid}
    shop_id INTEGER NOT NULL,
    payment_id TEXT NOT NULL,
    legacy_id INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    app_id INTEGER,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    manual_capture INTEGER NOT NULL,
    test INTEGER NOT NULL,
    state TEXT NOT NULL,
    state_entered_at TEXT NOT NULL,
    channel_payment_id TEXT,
    captured_amount TEXT NOT NULL,
    refunded_amount TEXT NOT NULL,
    method TEXT NOT NULL,
    bank_code TEXT NOT NULL,
    pay_by_other INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    paid_at TEXT,
    kind TEXT NOT NULL DEFAULT 'card',
    card_last4 TEXT,
    app_answer TEXT,
    request_shape TEXT,
    PRIMARY KEY (shop_id, payment_id),
    UNIQUE (shop_id, legacy_id)
);
CREATE INDEX IF NOT EXISTS payments_by_order ON payments (shop_id, order_id);
CREATE TABLE IF NOT EXISTS operations (
    {rowid}
    shop_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    amount TEXT,
    state TEXT NOT NULL,
    state_entered_at TEXT NOT NULL,
    channel_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (shop_id, kind, operation_id)
);
CREATE INDEX IF NOT EXISTS operations_by_payment ON operations (shop_id, payment_id);
CREATE TABLE IF NOT EXISTS results (
    shop_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    result INTEGER NOT NULL,
    reason TEXT,
    channel_id TEXT,
    received_at TEXT NOT NULL,
    PRIMARY KEY (shop_id, kind, object_id)
);
CREATE TABLE IF NOT EXISTS history (
    seq {auto_id},
    shop_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    event TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    at TEXT NOT NULL,
    cause TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_payment ON history (shop_id, payment_id);
"""

OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id {auto_id},
    shop_id INTEGER NOT NULL,
    payment_id TEXT,
    side TEXT NOT NULL,
    kind TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    headers TEXT NOT NULL,
    body TEXT,
    state TEXT NOT NULL,
    due_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    fail_attempts INTEGER NOT NULL DEFAULT 0,
    claimed_until REAL,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    last_status INTEGER,
    last_error TEXT,
    claimed_by TEXT  -- the process sending it (store/db.py process_key)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, due_at);
CREATE INDEX IF NOT EXISTS outbox_by_payment ON outbox (shop_id, payment_id);
CREATE TABLE IF NOT EXISTS journal (
    id {auto_id},
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    direction TEXT NOT NULL,
    shop_id INTEGER,
    payment_id TEXT,
    kind TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER,
    duration_ms REAL NOT NULL,
    request_headers TEXT NOT NULL,
    request_body TEXT,
    response_headers TEXT,
    response_body TEXT,
    error TEXT,
    message_id INTEGER,
    attempt INTEGER,
    fault TEXT,
    violation TEXT
);
CREATE INDEX IF NOT EXISTS journal_by_payment ON journal (shop_id, payment_id);
CREATE INDEX IF NOT EXISTS journal_by_seq ON journal (seq);
CREATE INDEX IF NOT EXISTS journal_by_message ON journal (message_id);
CREATE TABLE IF NOT EXISTS psp_installations (
    {rowid}
    shop_domain TEXT PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    platform_url TEXT NOT NULL,
    access_token TEXT NOT NULL,
    client_secret TEXT,
    capture_flag TEXT NOT NULL DEFAULT 'published',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS violations (
    id {auto_id},
    shop_id INTEGER NOT NULL,
    payment_id TEXT,
    message_id INTEGER,
    kind TEXT NOT NULL,
    field TEXT NOT NULL,
    rule TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS violations_by_payment ON violations (shop_id, payment_id);
CREATE TABLE IF NOT EXISTS psp_payments (
    {rowid}
    shop_domain TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    channel_payment_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    manual_capture INTEGER NOT NULL,
    decision TEXT,
    reason TEXT,
    decided_at TEXT,
    captured TEXT NOT NULL,
    refunded TEXT NOT NULL,
    voided INTEGER NOT NULL DEFAULT 0,
    card_last4 TEXT,
    holder TEXT,
    magic TEXT,
    action_token TEXT UNIQUE,
    return_url TEXT,
    cancel_url TEXT,
    answer TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (shop_domain, payment_id)
);
CREATE TABLE IF NOT EXISTS psp_operations (
    {rowid}
    shop_domain TEXT NOT NULL,
    kind TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    amount TEXT,
    channel_id TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT,
    answer TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (shop_domain, kind, operation_id)
);
"""

SCHEMA += OUTBOX_SCHEMA + JOURNAL_WORKERS

MIGRATIONS = {
    # 10: workers and outbox claims are keyed by host and pid, so instances on several hosts
    # can share one store.
    9: "DROP TABLE IF EXISTS journal_workers;\n"
    + JOURNAL_WORKERS
    + "ALTER TABLE outbox ADD COLUMN claimed_by TEXT;\n",
    # 11: the shape of the requests a shop sends, how an app takes status queries, and the
    # shape each payment's request went out in (contract coverage).
    10: "ALTER TABLE shops ADD COLUMN request_shape TEXT NOT NULL DEFAULT 'example';\n"
    "ALTER TABLE apps ADD COLUMN status_query TEXT NOT NULL DEFAULT 'query';\n"
    "ALTER TABLE payments ADD COLUMN request_shape TEXT;\n",
}


def statements(script: str) -> list[str]:
    """A script's statements, one at a time (each ends with a semicolon at a line's end)."""
    return [part.strip() for part in script.split(";\n") if part.strip()]
