//! The Mastodon client API: OAuth sign-in, instance, credentials, driven by real client
//! libraries.
