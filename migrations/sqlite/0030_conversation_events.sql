-- The streaming API's `conversation` events (the `direct` stream): a row each time a
-- conversation gets a new status (made, or its `seq` moved by `touch`), written by
-- triggers in that transaction, whichever process commits it; each server's poller
-- reads the rows above the last id it saw, as with `status_events` (0028). Not
-- `conversations.seq` itself: a removed conversation's seq may be given again.
-- Bounded with `status_events`: ten minutes and `[limits.client_api] stream_log_rows`.
CREATE TABLE conversation_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    author          TEXT NOT NULL,
    conversation_id INTEGER NOT NULL,
    at              INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER) * 1000)
);
CREATE INDEX conversation_events_by_time ON conversation_events(at);

CREATE TRIGGER conversations_event_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversation_events (author, conversation_id) VALUES (NEW.author, NEW.id);
END;

CREATE TRIGGER conversations_event_touch AFTER UPDATE OF seq ON conversations
WHEN OLD.seq IS NOT NEW.seq BEGIN
    INSERT INTO conversation_events (author, conversation_id) VALUES (NEW.author, NEW.id);
END;
