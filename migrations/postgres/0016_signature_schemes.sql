-- Double-knocking: which HTTP signature scheme a host accepts, remembered per host so
-- every node (and the next start) tries the working one first. Rows exist only for
-- hosts we deliver to, so the table stays as bounded as the followers' hosts.
ALTER TABLE hosts ADD COLUMN signature_scheme TEXT;      -- NULL (not known) | rfc9421 | cavage
ALTER TABLE hosts ADD COLUMN scheme_checked_at BIGINT;   -- when RFC 9421 was last tried there (ms)
