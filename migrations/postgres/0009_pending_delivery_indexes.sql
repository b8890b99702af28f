-- The queue's hot indexes hold only pending rows. Finishing a delivery then removes
-- its entries instead of moving them (a (host, state) entry keyed on a long host name
-- was rewritten on every delivery), and finished rows, which the table keeps for the
-- counts, no longer weigh on the scans that find due work.
--
-- `turn`: a row's place among its server's rows in one fan-out (1 for each server's
-- first inbox, 2 for its second, ...). Due rows are taken in (next_attempt_at, turn)
-- order, so a fan-out moves from server to server instead of sending one server's
-- inboxes in a row, while the rows themselves are still written in inbox order.
ALTER TABLE deliveries ADD COLUMN turn BIGINT NOT NULL DEFAULT 0;
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries(next_attempt_at, turn) WHERE state = 'pending';
DROP INDEX deliveries_by_host;
CREATE INDEX deliveries_pending_by_host ON deliveries(host) WHERE state = 'pending';

-- The fan-out reads each author's followers by (host, inbox): grouped and numbered
-- per server without a sort, and written to the queue in nearly its index order.
CREATE INDEX followers_fan_out ON followers(author, delivery_host, delivery_inbox);
