//! How domain types are stored: each as the text it parses from. A stored value that
//! no longer parses is a decode error, never a silent fallback.

use serde::{Serialize, de::DeserializeOwned};
use sqlx::{
    Any, Database, Decode, Encode, Type,
    any::{AnyRow, AnyTypeInfo},
    encode::IsNull,
    error::BoxDynError,
};
use url::Url;

use crate::domain::{
    CircuitState, DeliveryState, Emoji, FilterAction, Handle, InboxState, Lang, PostKind,
    PostOrigin, QuotePolicy, QuoteState, ReactionKind, ReplyState, SignatureScheme, Slug, Tag,
    Visibility, WorkerKind,
};

macro_rules! text_column {
    ($($t:ty),+ $(,)?) => {$(
        impl Type<Any> for $t {
            fn type_info() -> AnyTypeInfo {
                <str as Type<Any>>::type_info()
            }

            fn compatible(ty: &AnyTypeInfo) -> bool {
                <str as Type<Any>>::compatible(ty)
            }
        }

        impl Encode<'_, Any> for $t {
            fn encode_by_ref(
                &self,
                buf: &mut <Any as Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Any>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> Decode<'r, Any> for $t {
            fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(<$t>::parse(<&str as Decode<Any>>::decode(value)?)?)
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

/// A value stored as JSON text (both stores keep JSON in a TEXT column; sqlx's own
/// `Json` has no `Any` encoding).
#[derive(Debug, Clone, Default)]
pub struct Json<T>(pub T);

impl<T> Type<Any> for Json<T> {
    fn type_info() -> AnyTypeInfo {
        <str as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <str as Type<Any>>::compatible(ty)
    }
}

impl<T: Serialize> Encode<'_, Any> for Json<T> {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<Any>>::encode(serde_json::to_string(&self.0)?, buf)
    }
}

impl<'r, T: DeserializeOwned> Decode<'r, Any> for Json<T> {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(serde_json::from_str(<&str as Decode<Any>>::decode(
            value,
        )?)?))
    }
}

/// A URL column of a row read by hand (sqlx cannot decode `Url` itself).
pub(super) fn url(row: &AnyRow, column: &str) -> sqlx::Result<Url> {
    use sqlx::Row;
    let text: &str = row.try_get(column)?;
    Url::parse(text).map_err(|e| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: Box::new(e),
    })
}

/// A nullable URL column of a row read by hand.
pub(super) fn url_opt(row: &AnyRow, column: &str) -> sqlx::Result<Option<Url>> {
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

/// What a `#[sqlx(try_from = "Json<Vec<T>>")]` field of a derived row reads.
impl<T> From<Json<Vec<T>>> for Vec<T> {
    fn from(json: Json<Vec<T>>) -> Self {
        json.0
    }
}

/// A yes/no column or expression. Both stores keep flags as integers (0/1), and an
/// expression may give PostgreSQL's boolean: either reads as a `bool`.
#[derive(Debug, Clone, Copy)]
pub struct Flag(pub bool);

impl Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }

    fn compatible(_: &AnyTypeInfo) -> bool {
        true
    }
}

impl<'r> Decode<'r, Any> for Flag {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        use sqlx::{ValueRef, any::AnyTypeInfoKind};
        if value.type_info().kind() == AnyTypeInfoKind::Bool {
            return Ok(Self(<bool as Decode<Any>>::decode(value)?));
        }
        Ok(Self(<i64 as Decode<Any>>::decode(value)? != 0))
    }
}

impl From<Flag> for bool {
    fn from(flag: Flag) -> Self {
        flag.0
    }
}
