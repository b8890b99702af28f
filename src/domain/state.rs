//! The states and kinds stored rows carry, each stored as its lowercase name.

use std::fmt;

use super::ParseError;

/// An enum stored as text: its variants, their stored names, `parse` and `as_str`.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(ParseError(format!(
                        "`{other}` is not a {}: use one of {}",
                        stringify!($name),
                        [$($text),+].join(", ")
                    ))),
                }
            }

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

stored_enum! {
    /// Whether a reply shows under its post.
    ReplyState {
        Visible = "visible",
        /// Waiting for the author's approval (`[moderation] hold_replies`).
        Held = "held",
        /// Taken off the page by the author; kept.
        Hidden = "hidden",
    }
}

stored_enum! {
    /// What became of an activity the inbox stored.
    InboxState {
        /// Waiting for the processor (or for a retry).
        Pending = "pending",
        /// Applied, or ignored on purpose.
        Done = "done",
        /// Can never apply: forged, malformed, too deep.
        Rejected = "rejected",
        /// Its fetches kept failing.
        Failed = "failed",
    }
}

stored_enum! {
    /// Where a delivery stands.
    DeliveryState {
        Pending = "pending",
        Done = "done",
        Failed = "failed",
    }
}

stored_enum! {
    /// An HTTP signature scheme: the one a request was signed with, and the one a host
    /// is remembered to accept.
    SignatureScheme {
        /// draft-cavage-http-signatures, as most servers send and verify it.
        Cavage = "cavage",
        /// RFC 9421 HTTP Message Signatures.
        Rfc9421 = "rfc9421",
    }
}

stored_enum! {
    /// A remote host's circuit breaker.
    CircuitState {
        /// Deliveries go out.
        Closed = "closed",
        /// Deliveries wait; one probe may go after the cool-down.
        Open = "open",
    }
}

stored_enum! {
    /// A reaction to one of our posts.
    ReactionKind {
        Like = "like",
        /// A boost (`Announce`).
        Announce = "announce",
    }
}

stored_enum! {
    /// Which process delivers.
    WorkerKind {
        /// `fedblog serve`.
        Serve = "serve",
        /// `fedblog sync` when no server runs.
        Cli = "cli",
    }
}

stored_enum! {
    /// Where a post came from: a file in the content folder (sync owns it) or an app
    /// through the client API (sync never touches it).
    PostOrigin {
        Content = "content",
        App = "app",
    }
}

stored_enum! {
    /// Who a post is for, as Mastodon names it: `public` (listed everywhere),
    /// `unlisted` (by its URL, not in lists, feeds or timelines), `private` (followers
    /// and those mentioned) and `direct` (only those mentioned). Only the first two are
    /// ever on a page.
    Visibility {
        Public = "public",
        Unlisted = "unlisted",
        Private = "private",
        Direct = "direct",
    }
}

impl Visibility {
    /// Whether anyone may read it at its URL.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Public | Self::Unlisted)
    }
}

impl ReactionKind {
    /// The ActivityStreams type that makes this reaction. Akkoma's and Pleroma's
    /// `EmojiReact` is a like with an emoji, as Misskey's `Like` is.
    pub fn from_activity_type(t: &str) -> Option<Self> {
        match t {
            "Like" | "EmojiReact" => Some(Self::Like),
            "Announce" => Some(Self::Announce),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip() {
        for s in [ReplyState::Visible, ReplyState::Held, ReplyState::Hidden] {
            assert_eq!(ReplyState::parse(s.as_str()), Ok(s));
        }
        assert_eq!(InboxState::parse("done"), Ok(InboxState::Done));
        assert!(CircuitState::parse("half_open").is_err());
        assert_eq!(
            serde_json::to_string(&CircuitState::Open).unwrap(),
            "\"open\""
        );
    }
}

stored_enum! {
    /// Who may quote a post (FEP-044f `interactionPolicy.canQuote`): the author's
    /// `quotes` in author.toml, else a post's `quotes` in its front matter.
    QuotePolicy {
        /// Everyone (Mastodon's default for public posts).
        Anyone = "anyone",
        /// Only the author's followers.
        Followers = "followers",
        /// No one: every QuoteRequest is rejected.
        Nobody = "nobody",
    }
}

stored_enum! {
    /// What became of a quote of one of our posts.
    QuoteState {
        /// A QuoteRequest we accepted: its QuoteAuthorization is served.
        Approved = "approved",
        /// Approved, then revoked by the author (`fedblog quotes revoke`).
        Revoked = "revoked",
        /// A quote that came without a request (Misskey's `_misskey_quote`, `quoteUrl`).
        Listed = "listed",
    }
}
