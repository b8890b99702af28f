//! Status ids of the client API, a contract between the API's parts: what a Status
//! is, by the shape of its id. Our posts and notes are the post's number (as
//! notifications already use), remote replies to them `reply.<n>`, quotes of them
//! `quote.<n>`, and remote statuses stored for timelines `s.<n>`. None is a handle
//! or another kind's id, so one parse tells them apart.

use std::fmt;

/// A status id, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusId {
    /// A post of ours (from content/ or an app): `posts.id`.
    Post(i64),
    /// A remote reply to one of our posts: `replies.id`.
    Reply(i64),
    /// A quote of one of our posts: `quotes.id`.
    Quote(i64),
    /// A remote status stored for the timelines.
    Remote(i64),
    /// A direct message to one of our authors: `direct_messages.id`.
    Direct(i64),
}

impl StatusId {
    /// `12`, `reply.12`, `quote.12` or `s.12`; anything else is no status of ours.
    pub fn parse(s: &str) -> Option<Self> {
        let number = |n: &str| {
            (!n.is_empty() && n.len() <= 18 && n.bytes().all(|b| b.is_ascii_digit()))
                .then(|| n.parse::<i64>().ok())
                .flatten()
        };
        match s.split_once('.') {
            None => number(s).map(Self::Post),
            Some(("reply", n)) => number(n).map(Self::Reply),
            Some(("quote", n)) => number(n).map(Self::Quote),
            Some(("s", n)) => number(n).map(Self::Remote),
            Some(("d", n)) => number(n).map(Self::Direct),
            Some(_) => None,
        }
    }
}

impl fmt::Display for StatusId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Post(n) => write!(f, "{n}"),
            Self::Reply(n) => write!(f, "reply.{n}"),
            Self::Quote(n) => write!(f, "quote.{n}"),
            Self::Remote(n) => write!(f, "s.{n}"),
            Self::Direct(n) => write!(f, "d.{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_nothing_else_parses() {
        for s in ["12", "reply.3", "quote.4", "s.5", "d.6"] {
            assert_eq!(
                StatusId::parse(s).map(|i| i.to_string()).as_deref(),
                Some(s)
            );
        }
        for bad in [
            "", "-1", "1.5", "reply.", "reply.x", "alice", "r.abc", "12a", "+3",
        ] {
            assert_eq!(StatusId::parse(bad), None, "{bad}");
        }
    }
}
