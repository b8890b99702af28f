//! Direct messages to and from the author (issue 17): they arrive as mention
//! notifications and conversations, and never reach a page, `replies`, `context`, a
//! feed or a public timeline.
