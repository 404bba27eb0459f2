-- ctiforge store, SQLite: reports with their analyses, outputs and index terms (and a
-- full-text index), STIX objects for TAXII, the job queue, feeds, tokens and sessions.
-- Times are RFC 3339 UTC text with a fixed number of digits, so they sort as text.

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    max_tlp TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    revoked TEXT
);

CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,
    token_id INTEGER NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    expires TEXT NOT NULL
);

CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    url TEXT,
    media_type TEXT NOT NULL,
    tlp TEXT NOT NULL,
    published TEXT,
    added TEXT NOT NULL,
    analyzed TEXT NOT NULL,
    risk INTEGER NOT NULL,
    risk_level TEXT NOT NULL,
    exploitation TEXT NOT NULL,
    techniques TEXT NOT NULL,
    sectors TEXT NOT NULL,
    history TEXT NOT NULL,
    analysis TEXT NOT NULL,
    body TEXT NOT NULL,
    raw BLOB NOT NULL
);
CREATE INDEX reports_by_added ON reports(added DESC, id DESC);

CREATE TABLE outputs (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (report_id, name)
);

CREATE TABLE terms (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (report_id, kind, value)
);
CREATE INDEX terms_by_value ON terms(kind, value);

-- Full-text search over title and text, kept in step with `reports` by triggers.
CREATE VIRTUAL TABLE reports_fts USING fts5(
    title, body, content = 'reports', content_rowid = 'id', tokenize = 'unicode61'
);
CREATE TRIGGER reports_fts_insert AFTER INSERT ON reports BEGIN
    INSERT INTO reports_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports BEGIN
    INSERT INTO reports_fts(reports_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER reports_fts_update AFTER UPDATE OF title, body ON reports BEGIN
    INSERT INTO reports_fts(reports_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO reports_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    input TEXT NOT NULL,
    name TEXT,
    tlp TEXT NOT NULL,
    sha256 TEXT,
    report_id INTEGER REFERENCES reports(id) ON DELETE SET NULL,
    error TEXT,
    submitted_by INTEGER,
    feed_id INTEGER,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TEXT
);
CREATE INDEX jobs_by_status ON jobs(status, id);

-- STIX object versions. `added` is TAXII's date_added: strictly increasing in `seq` order
-- (see meta.stix_last_added), so paging by (added, seq) never skips or repeats.
CREATE TABLE stix_objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    version TEXT NOT NULL,
    tlp TEXT NOT NULL,
    added TEXT NOT NULL,
    posted INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL,
    UNIQUE (id, version, tlp)
);
CREATE INDEX stix_by_added ON stix_objects(added, seq);
CREATE INDEX stix_by_id ON stix_objects(id, version);

-- Which reports carry which object versions (a version shared by reports is stored once).
CREATE TABLE stix_links (
    seq INTEGER NOT NULL REFERENCES stix_objects(seq) ON DELETE CASCADE,
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    PRIMARY KEY (seq, report_id)
);
CREATE INDEX stix_links_by_report ON stix_links(report_id);

CREATE TABLE taxii_status (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    created TEXT NOT NULL
);

CREATE TABLE feeds (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    name TEXT,
    interval_seconds INTEGER NOT NULL,
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
    feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    seen TEXT NOT NULL,
    PRIMARY KEY (feed_id, key)
);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
