//! The one error type for everything a request or command can fail with. Variants
//! say what went wrong, not which HTTP status it is: `http::error` maps them to a
//! status and a safe message, once. Each keeps its cause: a `source`, or an
//! `anyhow::Error` with the context added where it failed.
//!
//! Lower layers convert their own errors in: `db::Error` and `federation`'s fetch and
//! signature errors implement `From` beside their definitions, so this module
//! depends on nothing of ours.

/// A cause of any kind, kept as the source of an [`AppError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0} was deleted")]
    Gone(String),
    /// The sender's mistake: malformed JSON, a missing field, an unknown name.
    #[error("{0}")]
    BadRequest(String),
    /// The request is not authenticated: no or a bad signature, or a signer we cannot
    /// find or verify.
    #[error("{message}")]
    Unauthorized {
        message: String,
        #[source]
        source: Option<BoxError>,
    },
    #[error("{0}")]
    Forbidden(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// A remote host sent more than its share; it should retry after this many seconds.
    #[error("too many requests from {host}; retry after {retry_after} seconds")]
    TooManyRequests { host: String, retry_after: u64 },
    /// Over a bound on open streaming connections (`[limits.client_api]`): 429.
    #[error("{0}")]
    TooManyStreams(String),
    /// Another server failed us (a document we needed could not be had).
    /// `transient`: asking again later may succeed (a timeout, a 5xx).
    #[error("{message}")]
    Remote {
        message: String,
        transient: bool,
        #[source]
        source: BoxError,
    },
    /// The signer's key cannot be had for now (its server timed out or failed, or our
    /// budget for key fetches is spent): the sender should retry after `retry_after`
    /// seconds, as Mastodon answers.
    #[error("{message}")]
    KeyUnavailable {
        message: String,
        retry_after: u64,
        #[source]
        source: Option<BoxError>,
    },
    /// The request was addressed to another server: its `Host` is not ours.
    #[error("{0}")]
    Misdirected(String),
    /// A client API request without a usable access token: none, or one that is
    /// unknown, revoked or expired.
    #[error("{0}")]
    InvalidToken(String),
    /// The request is understood and allowed but cannot be done (Mastodon's 422).
    #[error("{0}")]
    Unprocessable(String),
    /// An OAuth 2 error (RFC 6749 §5.2), as the token and revocation endpoints answer.
    #[error("{description}")]
    OAuth {
        error: OAuthError,
        description: String,
    },
    /// Too many wrong passwords from this address or for this author; signing in works
    /// again after this many seconds.
    #[error("too many failed sign-ins; try again in {retry_after} seconds")]
    TooManySignIns { retry_after: u64 },
    /// Our database failed.
    #[error("database error: {0}")]
    Database(#[source] BoxError),
    /// Our own failure, with the context of where it happened.
    #[error("{0:#}")]
    Internal(anyhow::Error),
}

/// The error codes of RFC 6749 §5.2 (and RFC 7009's for revocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
}

impl OAuthError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
        }
    }
}

impl AppError {
    /// An OAuth 2 error with its description.
    pub fn oauth(error: OAuthError, description: impl Into<String>) -> Self {
        Self::OAuth {
            error,
            description: description.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized {
            message: message.into(),
            source: None,
        }
    }

    /// Where a remote failure means the request is not authenticated (the signer's
    /// actor or key could not be had): [`Self::Remote`] becomes [`Self::Unauthorized`]
    /// with the same message and cause; anything else is returned as it is.
    pub fn remote_as_unauthorized(self) -> Self {
        match self {
            Self::Remote {
                message, source, ..
            } => Self::Unauthorized {
                message,
                source: Some(source),
            },
            other => other,
        }
    }

    /// Whether trying again later may succeed: the database was busy, or another
    /// server did not answer.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Database(_) | Self::KeyUnavailable { .. } => true,
            Self::Remote { transient, .. } => *transient,
            _ => false,
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        Self::Internal(e)
    }
}

/// A value from outside that does not parse is the sender's mistake.
impl From<crate::domain::ParseError> for AppError {
    fn from(e: crate::domain::ParseError) -> Self {
        Self::BadRequest(e.0)
    }
}

pub type AppResult<T> = Result<T, AppError>;
