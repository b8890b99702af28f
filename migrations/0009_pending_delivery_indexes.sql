-- The queue's hot indexes hold only pending rows. Finishing a delivery then removes
-- its entries instead of moving them (a (host, state) entry keyed on a long host name
-- was rewritten on every delivery), and finished rows, which the table keeps for the
-- counts, no longer weigh on the scans that find due work.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
DROP INDEX deliveries_by_host;
CREATE INDEX deliveries_pending_by_host ON deliveries(host) WHERE state = 'pending';
