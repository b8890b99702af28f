//! Conversations: `replies` with an embedded first page and paginated pages, and the
//! FEP-7888 `context` collection of each post.
