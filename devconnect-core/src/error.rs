//! The one error type of the service.

use std::time::Duration;

/// Everything that can go wrong in a DevConnect call.
///
/// Each variant says what the caller can do about it; [`Error::code`] is the stable,
/// machine-readable name frontends put on the wire. Frontends map this enum in one
/// exhaustive `match` each (HTTP status, gRPC status, Python exception). It is
/// deliberately not `#[non_exhaustive]`: a new variant fails to compile until every
/// frontend maps it.
///
/// `Internal` carries the cause for the logs; its [`Display`](std::fmt::Display) never
/// shows it, so printing an error to a client cannot leak driver messages or paths.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is malformed or breaks a rule; `field` names the input at fault.
    #[error("{field}: {reason}")]
    Validation {
        /// The field (or path parameter) at fault, as named in the API.
        field: &'static str,
        /// A human explanation of what is wrong with it.
        reason: String,
    },
    /// Missing, malformed, expired or revoked credentials; also a failed login.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The named thing does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The call conflicts with existing state (duplicate email, existing request, ...).
    #[error("{0}")]
    Conflict(&'static str),
    /// Too many calls; try again after `retry_after`.
    #[error("too many requests, retry in {} s", retry_after.as_secs().max(1))]
    RateLimited {
        /// How long the caller should wait before trying again.
        retry_after: Duration,
    },
    /// A cap on how many of something one may hold at once is reached (e.g. live
    /// sessions per user); it frees up as soon as one of them ends.
    #[error("{0}")]
    LimitExceeded(&'static str),
    /// An upload or body is larger than `limit` bytes.
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// An upload is not one of the accepted kinds.
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    /// What the call needs is not there: a service that cannot be reached right now
    /// (the database; retrying later can succeed, and the cause was logged where it
    /// arose), or a capability this server does not run (push notifications). The
    /// message says which.
    #[error("{0}")]
    Unavailable(&'static str),
    /// Something failed on our side. The cause is for logs only.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// `Result` with [`Error`] as the error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The stable machine-readable code of this error, e.g. `"validation"`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "validation",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::RateLimited { .. } => "rate_limited",
            Self::LimitExceeded(_) => "limit_exceeded",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// A validation error on `field`.
    pub fn validation(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Validation { field, reason: reason.into() }
    }

    /// Wraps an unexpected failure, logging its whole cause chain once, here.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let cause = cause.into();
        tracing::error!(error = %ErrorChain(&*cause), "internal error");
        Self::Internal(cause)
    }
}

impl From<devconnect_types::Invalid> for Error {
    fn from(invalid: devconnect_types::Invalid) -> Self {
        Self::Validation { field: invalid.field, reason: invalid.reason }
    }
}

/// Formats an error with its sources, `a: b: c`, for logs.
struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_display_their_cause() {
        let err = Error::internal(std::io::Error::other("disk /secret/path on fire"));
        assert_eq!(err.to_string(), "internal error");
        assert_eq!(err.code(), "internal");
    }

    #[test]
    fn validation_errors_name_the_field() {
        let err = Error::validation("age", "must be at least 18");
        assert_eq!(err.to_string(), "age: must be at least 18");
        assert_eq!(err.code(), "validation");
    }
}
