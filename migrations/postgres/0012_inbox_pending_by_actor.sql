-- The inbox's quotas count each sender's (and host's) activities still waiting to be
-- processed on every request: an index of pending rows by actor keeps that a range
-- read of a few rows.
CREATE INDEX inbox_activities_pending_by_actor ON inbox_activities(actor) WHERE state = 'pending';
