-- The Mastodon client API's sign-in. Every secret (client secrets, access tokens,
-- authorization codes, CSRF tokens) is stored as its SHA-256, never as itself, and
-- lives here rather than in a process, so several servers can share a database.
-- Each table is bounded: by expiry, and by caps the service enforces on insert.

-- An author's password for signing in from an app (`fedblog password`), Argon2id.
CREATE TABLE author_passwords (
    author      TEXT PRIMARY KEY NOT NULL REFERENCES authors(handle),
    hash        TEXT NOT NULL,     -- PHC string: $argon2id$v=19$m=…
    updated_at  INTEGER NOT NULL
);

-- Registered client apps (`POST /api/v1/apps`): anyone may register one.
CREATE TABLE oauth_apps (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id      TEXT NOT NULL UNIQUE,
    secret_hash    TEXT NOT NULL,
    name           TEXT NOT NULL,
    website        TEXT,
    redirect_uris  TEXT NOT NULL,  -- one per line, as registered
    scopes         TEXT NOT NULL,  -- space-separated, as parsed
    created_at     INTEGER NOT NULL
);

-- Access tokens. `author` is NULL for an app's own token (client_credentials).
CREATE TABLE oauth_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    app_id      INTEGER NOT NULL REFERENCES oauth_apps(id) ON DELETE CASCADE,
    author      TEXT REFERENCES authors(handle),
    scopes      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER            -- NULL: until revoked
);
CREATE INDEX oauth_tokens_author ON oauth_tokens(author, created_at);
CREATE INDEX oauth_tokens_app ON oauth_tokens(app_id);

-- Authorization codes between the sign-in page and `/oauth/token`; single use.
CREATE TABLE oauth_codes (
    code_hash       TEXT PRIMARY KEY NOT NULL,
    app_id          INTEGER NOT NULL REFERENCES oauth_apps(id) ON DELETE CASCADE,
    author          TEXT NOT NULL REFERENCES authors(handle),
    scopes          TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT,          -- PKCE S256, base64url
    expires_at      INTEGER NOT NULL
);
CREATE INDEX oauth_codes_expiry ON oauth_codes(expires_at);

-- CSRF tokens of sign-in forms shown; single use, each bound to its app.
CREATE TABLE oauth_csrf (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    app_id      INTEGER NOT NULL REFERENCES oauth_apps(id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX oauth_csrf_expiry ON oauth_csrf(expires_at);

-- Failed sign-ins, one row each, by what they are counted against ("author:alice",
-- "address:192.0.2.1"); rows older than the throttling window are pruned.
CREATE TABLE login_failures (
    subject  TEXT NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures(subject, at);
CREATE INDEX login_failures_at ON login_failures(at);
