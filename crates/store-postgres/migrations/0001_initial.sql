-- ctiforge store, PostgreSQL: the same tables as the SQLite store, for several `ctiforge serve`
-- instances sharing one database. Times are RFC 3339 UTC text with a fixed number of digits
-- (as in SQLite), so both backends compare and page them the same way.

CREATE TABLE tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    max_tlp TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    revoked TEXT
);

CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,
    token_id BIGINT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    expires TEXT NOT NULL
);

CREATE TABLE reports (
    id BIGSERIAL PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    url TEXT,
    media_type TEXT NOT NULL,
    tlp TEXT NOT NULL,
    published TEXT,
    added TEXT NOT NULL,
    analyzed TEXT NOT NULL,
    risk BIGINT NOT NULL,
    risk_level TEXT NOT NULL,
    exploitation TEXT NOT NULL,
    techniques TEXT NOT NULL,
    sectors TEXT NOT NULL,
    history TEXT NOT NULL,
    analysis TEXT NOT NULL,
    body TEXT NOT NULL,
    raw BYTEA NOT NULL,
    -- Full-text search with PostgreSQL's own: the title weighs more than the text.
    search TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') || to_tsvector('english', body)
    ) STORED
);
CREATE INDEX reports_by_added ON reports (added DESC, id DESC);
CREATE INDEX reports_search ON reports USING GIN (search);

CREATE TABLE outputs (
    report_id BIGINT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (report_id, name)
);

CREATE TABLE terms (
    report_id BIGINT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (report_id, kind, value)
);
CREATE INDEX terms_by_value ON terms (kind, value text_pattern_ops);

CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    input TEXT NOT NULL,
    name TEXT,
    tlp TEXT NOT NULL,
    sha256 TEXT,
    report_id BIGINT REFERENCES reports(id) ON DELETE SET NULL,
    error TEXT,
    submitted_by BIGINT,
    feed_id BIGINT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TEXT
);
CREATE INDEX jobs_by_status ON jobs (status, id);

-- STIX object versions. `added` (TAXII's date_added) is strictly increasing in commit order:
-- writers take an advisory lock for the length of their transaction (see the store's code).
CREATE TABLE stix_objects (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    version TEXT NOT NULL,
    tlp TEXT NOT NULL,
    added TEXT NOT NULL,
    posted BOOLEAN NOT NULL DEFAULT FALSE,
    body TEXT NOT NULL,
    UNIQUE (id, version, tlp)
);
CREATE INDEX stix_by_added ON stix_objects (added, seq);
CREATE INDEX stix_by_id ON stix_objects (id, version);

CREATE TABLE stix_links (
    seq BIGINT NOT NULL REFERENCES stix_objects(seq) ON DELETE CASCADE,
    report_id BIGINT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    PRIMARY KEY (seq, report_id)
);
CREATE INDEX stix_links_by_report ON stix_links (report_id);

CREATE TABLE taxii_status (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    created TEXT NOT NULL
);

CREATE TABLE feeds (
    id BIGSERIAL PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    name TEXT,
    interval_seconds BIGINT NOT NULL,
    tlp TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_polled TEXT,
    next_poll TEXT NOT NULL,
    error TEXT,
    lease_owner TEXT,
    lease_until TEXT,
    created TEXT NOT NULL
);

CREATE TABLE feed_items (
    feed_id BIGINT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    seen TEXT NOT NULL,
    PRIMARY KEY (feed_id, key)
);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
