//! How domain types are stored: each as the text it parses from. A stored value that
//! no longer parses is a decode error, never a silent fallback.

use sqlx::{
    Database, Decode, Encode, Sqlite, Type,
    encode::IsNull,
    error::BoxDynError,
    sqlite::{SqliteRow, SqliteTypeInfo},
};
use url::Url;

use crate::domain::{
    CircuitState, DeliveryState, Emoji, FilterAction, Handle, InboxState, Lang, PostKind,
    PostOrigin, QuotePolicy, QuoteState, ReactionKind, ReplyState, SignatureScheme, Slug, Tag,
    Visibility, WorkerKind,
};

macro_rules! text_column {
    ($($t:ty),+ $(,)?) => {$(
        impl Type<Sqlite> for $t {
            fn type_info() -> SqliteTypeInfo {
                <str as Type<Sqlite>>::type_info()
            }

            fn compatible(ty: &SqliteTypeInfo) -> bool {
                <str as Type<Sqlite>>::compatible(ty)
            }
        }

        impl Encode<'_, Sqlite> for $t {
            fn encode_by_ref(
                &self,
                buf: &mut <Sqlite as Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Sqlite>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> Decode<'r, Sqlite> for $t {
            fn decode(value: <Sqlite as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(<$t>::parse(<&str as Decode<Sqlite>>::decode(value)?)?)
            }
        }
    )+};
}

text_column!(
    Handle,
    Slug,
    Tag,
    Lang,
    PostKind,
    ReplyState,
    InboxState,
    DeliveryState,
    CircuitState,
    ReactionKind,
    WorkerKind,
    Emoji,
    QuotePolicy,
    QuoteState,
    SignatureScheme,
    PostOrigin,
    Visibility,
    FilterAction,
);

/// A URL column of a row read by hand (sqlx cannot decode `Url` itself).
pub(super) fn url(row: &SqliteRow, column: &str) -> sqlx::Result<Url> {
    use sqlx::Row;
    let text: &str = row.try_get(column)?;
    Url::parse(text).map_err(|e| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: Box::new(e),
    })
}

/// A nullable URL column of a row read by hand.
pub(super) fn url_opt(row: &SqliteRow, column: &str) -> sqlx::Result<Option<Url>> {
    use sqlx::Row;
    let text: Option<&str> = row.try_get(column)?;
    text.map(|t| {
        Url::parse(t).map_err(|e| sqlx::Error::ColumnDecode {
            index: column.to_owned(),
            source: Box::new(e),
        })
    })
    .transpose()
}
