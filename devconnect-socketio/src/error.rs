//! How core errors reach a Socket.IO client: as an error acknowledgement
//! `{success: false, code, message}`, or as a CONNECT_ERROR for a refused handshake.

use devconnect_core::Error;
pub use devconnect_types::ErrorAck;

/// The one mapping of core errors to the socket's error acknowledgement.
pub fn error_ack(err: &Error) -> ErrorAck {
    match err {
        Error::Validation { .. }
        | Error::Unauthorized(_)
        | Error::Forbidden(_)
        | Error::NotFound(_)
        | Error::Conflict(_)
        | Error::LimitExceeded(_)
        | Error::PayloadTooLarge { .. }
        | Error::UnsupportedMediaType(_)
        | Error::Unavailable(_) => ErrorAck::new(err.code(), err.to_string()),
        Error::RateLimited { retry_after } => {
            ErrorAck { retry_after: Some(retry_after.as_secs().max(1)), ..ErrorAck::new(err.code(), err.to_string()) }
        }
        // `Internal` displays an opaque text; the cause was logged where it arose.
        Error::Internal(_) => ErrorAck::new("internal", "internal error"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn every_core_error_maps_to_its_stable_code() {
        let cases = [
            (Error::validation("text", "empty"), "validation", "text: empty"),
            (Error::Unauthorized("token revoked"), "unauthorized", "token revoked"),
            (
                Error::Forbidden("you can only message your connections"),
                "forbidden",
                "you can only message your connections",
            ),
            (Error::NotFound("user"), "not_found", "user not found"),
            (Error::Conflict("dup"), "conflict", "dup"),
            (Error::LimitExceeded("too many"), "limit_exceeded", "too many"),
            (Error::PayloadTooLarge { limit: 10 }, "payload_too_large", "payload too large (limit 10 bytes)"),
            (Error::UnsupportedMediaType("gif"), "unsupported_media_type", "gif"),
        ];
        for (err, code, message) in &cases {
            let ack = error_ack(err);
            assert_eq!(
                (ack.success, ack.code.as_str(), ack.message.as_str(), ack.retry_after),
                (false, *code, *message, None)
            );
        }
    }

    #[test]
    fn rate_limits_say_when_to_retry() {
        let ack = error_ack(&Error::RateLimited { retry_after: Duration::from_millis(2500) });
        assert_eq!(ack.code, "rate_limited");
        assert_eq!(ack.retry_after, Some(2));
        let json = serde_json::to_value(&ack).ok();
        assert_eq!(json.as_ref().and_then(|j| j.get("retryAfter")).and_then(serde_json::Value::as_u64), Some(2));
    }

    #[test]
    fn internal_errors_stay_opaque() {
        let ack = error_ack(&Error::Internal("disk /secret on fire".into()));
        assert_eq!(ack, ErrorAck::new("internal", "internal error"));
        let json = serde_json::to_string(&ack).unwrap_or_default();
        assert_eq!(json, r#"{"success":false,"code":"internal","message":"internal error"}"#);
    }
}
