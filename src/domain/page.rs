//! `?page=N`: which page of a list or collection a reader asks for.

use serde::Deserialize;

/// A 1-based page number, at most `u32::MAX`: the offsets made from it never
/// overflow, however large the number in the URL. Anything else (0, negative, too
/// large, not a number) is refused where the query string is parsed (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "u64")]
pub struct PageNumber(u32);

impl PageNumber {
    pub const FIRST: Self = Self(1);

    pub fn get(self) -> i64 {
        self.0.into()
    }

    /// Items before this page, at `per_page` a page.
    pub fn offset(self, per_page: i64) -> i64 {
        (self.get() - 1).saturating_mul(per_page.max(0))
    }

    /// The page after this one, if there is such a number.
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }

    /// The page before this one; none before the first.
    pub fn prev(self) -> Option<Self> {
        (self.0 > 1).then(|| Self(self.0 - 1))
    }
}

impl TryFrom<u64> for PageNumber {
    type Error = String;

    fn try_from(n: u64) -> Result<Self, Self::Error> {
        match u32::try_from(n) {
            Ok(n) if n >= 1 => Ok(Self(n)),
            _ => Err(format!("page numbers run from 1 to {}", u32::MAX)),
        }
    }
}

impl Default for PageNumber {
    fn default() -> Self {
        Self::FIRST
    }
}

impl std::fmt::Display for PageNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_bounded_and_their_offsets_never_overflow() {
        assert!(PageNumber::try_from(0).is_err());
        assert!(PageNumber::try_from(u64::from(u32::MAX) + 1).is_err());
        let last = PageNumber::try_from(u64::from(u32::MAX)).unwrap();
        assert_eq!(last.offset(i64::MAX), i64::MAX);
        assert_eq!(last.next(), None);
        assert_eq!(PageNumber::FIRST.prev(), None);
        assert_eq!(PageNumber::try_from(3).unwrap().offset(20), 40);
    }
}
