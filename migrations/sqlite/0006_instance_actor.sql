-- The instance actor (an Application at /actor). Its key signs every GET we send, so
-- servers in secure mode (authorized fetch) answer us. One row, created on first use.
CREATE TABLE instance_actor (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    public_key_pem  TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
