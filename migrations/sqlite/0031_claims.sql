-- Named, expiring claims that nodes sharing one database take before work only one of
-- them may do at a time: `content` (the node that syncs and watches content/) and
-- `inbox:<actor id>` (the node applying that actor's activities, so they stay in
-- order). A claim whose `until` (Unix ms) has passed is free: a node that died
-- loses what it held within one lease.
CREATE TABLE claims (
    name   TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    until  INTEGER NOT NULL
);
