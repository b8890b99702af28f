//! `@user@server` in a post's Markdown: a link, a `Mention` tag and a delivery to the
//! mentioned account; unresolvable mentions stay text with a warning.
