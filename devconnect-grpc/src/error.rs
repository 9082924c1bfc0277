//! The one mapping from [`devconnect_core::Error`] to a gRPC [`Status`].
//!
//! The status message is `<stable code>: <human text>`, and the stable code is also in
//! the trailing metadata [`ERROR_CODE_KEY`], so clients can branch on it without
//! parsing text. Internal errors say nothing more than `internal: internal error`; the
//! core has already logged their cause.

use devconnect_core::Error;
use devconnect_core::realtime::EndReason;
use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

/// Metadata key carrying the stable error code of a failed call.
pub const ERROR_CODE_KEY: &str = "devconnect-error-code";

/// The gRPC status for a core error.
#[must_use]
pub fn status(err: &Error) -> Status {
    let code = match err {
        Error::Validation { .. } | Error::UnsupportedMediaType(_) | Error::PayloadTooLarge { .. } => {
            Code::InvalidArgument
        }
        Error::Unauthorized(_) => Code::Unauthenticated,
        Error::Forbidden(_) => Code::PermissionDenied,
        Error::NotFound(_) => Code::NotFound,
        Error::Conflict(_) => Code::AlreadyExists,
        Error::RateLimited { .. } | Error::LimitExceeded(_) => Code::ResourceExhausted,
        Error::Unavailable(_) => Code::Unavailable,
        Error::Internal(_) => Code::Internal,
    };
    coded(code, err.code(), err)
}

/// The status that ends a `Subscribe` stream, for the reason the core gave: a token
/// that no longer works (logged out, expired, its user suspended or deleted) is
/// `UNAUTHENTICATED`, as the caller's next call would be; a subscriber that fell behind
/// (who resubscribes with `last_message_id`) `ABORTED`.
#[must_use]
pub fn end_status(reason: Option<EndReason>) -> Status {
    match reason {
        Some(reason) if reason.may_reconnect() => coded(Code::Aborted, reason.code(), reason.message()),
        Some(reason @ (EndReason::Revoked | EndReason::Expired | EndReason::Suspended | EndReason::Deleted)) => {
            coded(Code::Unauthenticated, reason.code(), reason.message())
        }
        Some(reason) => coded(Code::Unavailable, reason.code(), reason.message()),
        None => coded(Code::Unavailable, "ended", "the subscription ended"),
    }
}

/// The status that ends open streams when the server shuts down.
#[must_use]
pub fn shutting_down() -> Status {
    coded(Code::Unavailable, "shutting_down", "the server is shutting down; reconnect with last_message_id")
}

/// A status whose message starts with `code` and whose metadata carries it.
fn coded(code: Code, error_code: &'static str, text: impl std::fmt::Display) -> Status {
    let mut status = Status::new(code, format!("{error_code}: {text}"));
    status.metadata_mut().insert(ERROR_CODE_KEY, MetadataValue::from_static(error_code));
    status
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn code_of(status: &Status) -> Option<&str> {
        status.metadata().get(ERROR_CODE_KEY).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn every_core_error_maps_to_its_grpc_code_with_the_stable_code() {
        let cases = [
            (
                Error::validation("age", "must be at least 18"),
                Code::InvalidArgument,
                "validation: age: must be at least 18",
            ),
            (Error::Unauthorized("token expired"), Code::Unauthenticated, "unauthorized: token expired"),
            (Error::Forbidden("no"), Code::PermissionDenied, "forbidden: no"),
            (Error::NotFound("user"), Code::NotFound, "not_found: user not found"),
            (Error::Conflict("email already registered"), Code::AlreadyExists, "conflict: email already registered"),
            (
                Error::RateLimited { retry_after: Duration::from_secs(3) },
                Code::ResourceExhausted,
                "rate_limited: too many requests, retry in 3 s",
            ),
            (Error::LimitExceeded("too many"), Code::ResourceExhausted, "limit_exceeded: too many"),
            (
                Error::PayloadTooLarge { limit: 10 },
                Code::InvalidArgument,
                "payload_too_large: payload too large (limit 10 bytes)",
            ),
            (Error::UnsupportedMediaType("only images"), Code::InvalidArgument, "unsupported_media_type: only images"),
            (
                Error::Unavailable("the database"),
                Code::Unavailable,
                "unavailable: the database is unreachable; try again shortly",
            ),
        ];
        for (err, code, message) in cases {
            let status = status(&err);
            assert_eq!(status.code(), code, "{err:?}");
            assert_eq!(status.message(), message);
            assert_eq!(code_of(&status), Some(err.code()));
        }
    }

    #[test]
    fn internal_errors_carry_no_detail() {
        let status = status(&Error::internal(std::io::Error::other("/secret/path: disk on fire")));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal: internal error");
        assert_eq!(code_of(&status), Some("internal"));
    }

    #[test]
    fn ended_streams_say_why() {
        let revoked = end_status(Some(EndReason::Revoked));
        assert_eq!(revoked.code(), Code::Unauthenticated);
        assert!(revoked.message().starts_with("token_revoked: "));
        let expired = end_status(Some(EndReason::Expired));
        assert_eq!(expired.code(), Code::Unauthenticated);
        assert_eq!(code_of(&expired), Some("token_expired"));
        let suspended = end_status(Some(EndReason::Suspended));
        assert_eq!(suspended.code(), Code::Unauthenticated);
        assert_eq!(suspended.message(), "suspended: your account was suspended by the operators");
        assert_eq!(code_of(&suspended), Some("suspended"));
        let deleted = end_status(Some(EndReason::Deleted));
        assert_eq!((deleted.code(), code_of(&deleted)), (Code::Unauthenticated, Some("account_deleted")));
        assert_eq!(end_status(Some(EndReason::Lagged)).code(), Code::Aborted);
        assert_eq!(shutting_down().code(), Code::Unavailable);
    }
}
