//! Streaming beyond notifications (issue 17): `update`, `delete` and `status.update`
//! events on the user, local public and hashtag streams, and filters applied in the
//! thread and account contexts.
