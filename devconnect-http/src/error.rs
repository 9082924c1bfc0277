//! The one mapping from errors to HTTP responses, and the one `recover`.
//!
//! Every failure leaves the server as `{"success": false, "code", "message"}` with the
//! status of [`status_of`]. Internal errors were already logged with their cause by the
//! core; clients only ever see "internal error".

use std::convert::Infallible;
use std::time::Duration;

use devconnect_core::Error;
pub use devconnect_types::rest::ErrorBody;
use http::StatusCode;
use http::header::{HeaderValue, RETRY_AFTER};
use warp::Rejection;

/// An error answered by the HTTP layer: a core error, or one that only exists in HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Anything the core (or a validation in this crate) reports.
    #[error(transparent)]
    Core(#[from] Error),
    /// No route has this path.
    #[error("no such route")]
    NoRoute,
    /// The path exists, but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request took longer than the configured timeout.
    #[error("request timed out")]
    Timeout,
    /// The store is unreachable (health check).
    #[error("service unavailable")]
    Unavailable,
}

impl From<devconnect_core::Invalid> for ApiError {
    fn from(invalid: devconnect_core::Invalid) -> Self {
        Self::Core(invalid.into())
    }
}

impl warp::reject::Reject for ApiError {}

/// The HTTP status of a core error.
#[must_use]
pub fn status_of(err: &Error) -> StatusCode {
    match err {
        Error::Validation { .. } => StatusCode::BAD_REQUEST,
        Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Conflict(_) | Error::LimitExceeded(_) => StatusCode::CONFLICT,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// Status, stable code and message of this error.
    #[must_use]
    pub fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::Core(err) => (status_of(err), err.code(), err.to_string()),
            Self::NoRoute => (StatusCode::NOT_FOUND, "not_found", self.to_string()),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", self.to_string()),
            Self::Timeout => (StatusCode::SERVICE_UNAVAILABLE, "timeout", self.to_string()),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", self.to_string()),
        }
    }

    /// Seconds a rate-limited caller should wait, rounded up (at least 1).
    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Core(Error::RateLimited { retry_after }) => Some(ceil_secs(*retry_after)),
            _ => None,
        }
    }

    /// The error as a response.
    #[must_use]
    pub fn into_response(self) -> warp::reply::Response {
        use warp::Reply as _;
        let (status, code, message) = self.parts();
        let mut response =
            warp::reply::with_status(warp::reply::json(&ErrorBody::new(code, message)), status).into_response();
        if let Some(secs) = self.retry_after() {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

fn ceil_secs(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

/// Shorthand for a validation error.
pub fn invalid(field: &'static str, reason: impl Into<String>) -> ApiError {
    ApiError::Core(Error::validation(field, reason))
}

/// Renders every rejection as the error envelope. The only `recover` of the server.
pub async fn recover(rejection: Rejection) -> Result<warp::reply::Response, Infallible> {
    Ok(rejection_to_error(&rejection).into_response())
}

fn rejection_to_error(rejection: &Rejection) -> ApiError {
    use warp::reject;
    if let Some(err) = rejection.find::<ApiError>() {
        return match err {
            ApiError::Core(e) => ApiError::Core(copy_core(e)),
            ApiError::NoRoute => ApiError::NoRoute,
            ApiError::MethodNotAllowed => ApiError::MethodNotAllowed,
            ApiError::Timeout => ApiError::Timeout,
            ApiError::Unavailable => ApiError::Unavailable,
        };
    }
    if rejection.is_not_found() {
        return ApiError::NoRoute;
    }
    if rejection.find::<reject::MethodNotAllowed>().is_some() {
        return ApiError::MethodNotAllowed;
    }
    if let Some(e) = rejection.find::<reject::InvalidQuery>() {
        return invalid("query", e.to_string());
    }
    if let Some(e) = rejection.find::<reject::MissingHeader>() {
        return invalid("headers", e.to_string());
    }
    if let Some(e) = rejection.find::<reject::InvalidHeader>() {
        return invalid("headers", e.to_string());
    }
    if rejection.find::<reject::PayloadTooLarge>().is_some() {
        return ApiError::Core(Error::PayloadTooLarge { limit: 0 });
    }
    if rejection.find::<reject::LengthRequired>().is_some() {
        return invalid("body", "a Content-Length header is required");
    }
    if rejection.find::<reject::UnsupportedMediaType>().is_some() {
        return ApiError::Core(Error::UnsupportedMediaType("unsupported content type"));
    }
    if rejection.find::<warp::filters::cors::CorsForbidden>().is_some() {
        return ApiError::Core(Error::Forbidden("origin not allowed"));
    }
    tracing::error!(?rejection, "unhandled rejection");
    ApiError::Core(Error::Internal("unhandled rejection".into()))
}

/// Core errors are not `Clone` (internal ones own their cause); rebuild the parts a
/// response needs.
fn copy_core(e: &Error) -> Error {
    match e {
        Error::Validation { field, reason } => Error::Validation { field, reason: reason.clone() },
        Error::Unauthorized(m) => Error::Unauthorized(m),
        Error::Forbidden(m) => Error::Forbidden(m),
        Error::NotFound(m) => Error::NotFound(m),
        Error::Conflict(m) => Error::Conflict(m),
        Error::LimitExceeded(m) => Error::LimitExceeded(m),
        Error::RateLimited { retry_after } => Error::RateLimited { retry_after: *retry_after },
        Error::PayloadTooLarge { limit } => Error::PayloadTooLarge { limit: *limit },
        Error::UnsupportedMediaType(m) => Error::UnsupportedMediaType(m),
        Error::Unavailable(m) => Error::Unavailable(m),
        Error::Internal(_) => Error::Internal("internal error".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_error_has_its_documented_status() {
        let cases: Vec<(Error, u16, &str)> = vec![
            (Error::validation("age", "x"), 400, "validation"),
            (Error::Unauthorized("x"), 401, "unauthorized"),
            (Error::Forbidden("x"), 403, "forbidden"),
            (Error::NotFound("user"), 404, "not_found"),
            (Error::Conflict("x"), 409, "conflict"),
            (Error::LimitExceeded("x"), 409, "limit_exceeded"),
            (Error::RateLimited { retry_after: Duration::from_millis(1500) }, 429, "rate_limited"),
            (Error::PayloadTooLarge { limit: 1 }, 413, "payload_too_large"),
            (Error::UnsupportedMediaType("x"), 415, "unsupported_media_type"),
            (Error::Unavailable("the database"), 503, "unavailable"),
            (Error::Internal("boom".into()), 500, "internal"),
        ];
        for (err, status, code) in cases {
            assert_eq!(status_of(&err).as_u16(), status, "{err:?}");
            assert_eq!(err.code(), code);
        }
    }

    #[test]
    fn http_only_errors_have_stable_codes() {
        let no_route = ApiError::NoRoute;
        assert_eq!(no_route.parts().0, StatusCode::NOT_FOUND);
        assert_eq!(no_route.parts().1, "not_found");
        assert_eq!(ApiError::MethodNotAllowed.parts().0, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(ApiError::Timeout.parts().1, "timeout");
        assert_eq!(ApiError::Unavailable.parts().0, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn rate_limited_responses_carry_retry_after_rounded_up() {
        let response = ApiError::Core(Error::RateLimited { retry_after: Duration::from_millis(1500) }).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("2"));
    }

    #[test]
    fn internal_errors_never_show_their_cause() {
        let (status, code, message) = ApiError::Core(Error::Internal("secret /path".into())).parts();
        assert_eq!((status.as_u16(), code, message.as_str()), (500, "internal", "internal error"));
    }
}
