//! The Python exception hierarchy and the one mapping from [`devconnect_core::Error`].

use devconnect_core::Error;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyType;

pyo3::create_exception!(
    devconnect,
    DevConnectError,
    PyException,
    "Root of every DevConnect error. `code` is the stable machine-readable code (as in the REST API)."
);
pyo3::create_exception!(
    devconnect,
    ValidationError,
    DevConnectError,
    "Bad input (code `validation`); `field` names the input at fault."
);
pyo3::create_exception!(
    devconnect,
    AuthError,
    DevConnectError,
    "Missing, invalid, expired or revoked credentials, or a failed login (code `unauthorized`)."
);
pyo3::create_exception!(devconnect, ForbiddenError, DevConnectError, "Not allowed to do this (code `forbidden`).");
pyo3::create_exception!(devconnect, NotFoundError, DevConnectError, "The thing does not exist (code `not_found`).");
pyo3::create_exception!(
    devconnect,
    ConflictError,
    DevConnectError,
    "The call conflicts with existing state (code `conflict`)."
);
pyo3::create_exception!(
    devconnect,
    RateLimitedError,
    DevConnectError,
    "Too many calls (code `rate_limited`); retry after `retry_after` seconds."
);
pyo3::create_exception!(
    devconnect,
    LimitExceededError,
    DevConnectError,
    "A cap on how many of something one may hold at once is reached, e.g. live subscriptions per user (code `limit_exceeded`)."
);
pyo3::create_exception!(
    devconnect,
    PayloadTooLargeError,
    DevConnectError,
    "An upload is larger than `limit` bytes (code `payload_too_large`)."
);
pyo3::create_exception!(
    devconnect,
    UnsupportedMediaTypeError,
    DevConnectError,
    "An upload is not a JPEG, PNG or WebP image (code `unsupported_media_type`)."
);
pyo3::create_exception!(
    devconnect,
    UnavailableError,
    DevConnectError,
    "The database cannot be reached right now (code `unavailable`); retrying later can succeed."
);
pyo3::create_exception!(
    devconnect,
    InternalError,
    DevConnectError,
    "Something failed inside DevConnect (code `internal`); details are logged, never shown."
);

/// Which exception class an error becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Validation,
    Auth,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    LimitExceeded,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unavailable,
    Internal,
}

/// The one mapping from core errors to exception classes.
pub(crate) fn kind(err: &Error) -> Kind {
    match err {
        Error::Validation { .. } => Kind::Validation,
        Error::Unauthorized(_) => Kind::Auth,
        Error::Forbidden(_) => Kind::Forbidden,
        Error::NotFound(_) => Kind::NotFound,
        Error::Conflict(_) => Kind::Conflict,
        Error::RateLimited { .. } => Kind::RateLimited,
        Error::LimitExceeded(_) => Kind::LimitExceeded,
        Error::PayloadTooLarge { .. } => Kind::PayloadTooLarge,
        Error::UnsupportedMediaType(_) => Kind::UnsupportedMediaType,
        Error::Unavailable(_) => Kind::Unavailable,
        Error::Internal(_) => Kind::Internal,
    }
}

impl Kind {
    fn class<'py>(self, py: Python<'py>) -> Bound<'py, PyType> {
        match self {
            Self::Validation => py.get_type::<ValidationError>(),
            Self::Auth => py.get_type::<AuthError>(),
            Self::Forbidden => py.get_type::<ForbiddenError>(),
            Self::NotFound => py.get_type::<NotFoundError>(),
            Self::Conflict => py.get_type::<ConflictError>(),
            Self::RateLimited => py.get_type::<RateLimitedError>(),
            Self::LimitExceeded => py.get_type::<LimitExceededError>(),
            Self::PayloadTooLarge => py.get_type::<PayloadTooLargeError>(),
            Self::UnsupportedMediaType => py.get_type::<UnsupportedMediaTypeError>(),
            Self::Unavailable => py.get_type::<UnavailableError>(),
            Self::Internal => py.get_type::<InternalError>(),
        }
    }

    /// Every class with the code it carries (also set as a class attribute).
    pub(crate) const ALL: [(Self, &'static str); 11] = [
        (Self::Validation, "validation"),
        (Self::Auth, "unauthorized"),
        (Self::Forbidden, "forbidden"),
        (Self::NotFound, "not_found"),
        (Self::Conflict, "conflict"),
        (Self::RateLimited, "rate_limited"),
        (Self::LimitExceeded, "limit_exceeded"),
        (Self::PayloadTooLarge, "payload_too_large"),
        (Self::UnsupportedMediaType, "unsupported_media_type"),
        (Self::Unavailable, "unavailable"),
        (Self::Internal, "internal"),
    ];
}

/// Turns a core error into the matching Python exception, carrying `code` (and `field`,
/// `retry_after` or `limit` where the error has them). The message is the core's human
/// text, which never carries internal details.
pub(crate) fn to_py_err(py: Python<'_>, err: &Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let exc = kind(err).class(py).call1((err.to_string(),))?;
        exc.setattr("code", err.code())?;
        match err {
            Error::Validation { field, .. } => exc.setattr("field", *field)?,
            Error::RateLimited { retry_after } => exc.setattr("retry_after", retry_after.as_secs_f64())?,
            Error::PayloadTooLarge { limit } => exc.setattr("limit", *limit)?,
            _ => {}
        }
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// Registers the exception classes on the module, each with its `code` class attribute.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("DevConnectError", py.get_type::<DevConnectError>())?;
    for (kind, code) in Kind::ALL {
        let class = kind.class(py);
        class.setattr("code", code)?;
        m.add(class.name()?, class)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn every_core_error_maps_to_the_class_of_its_code() {
        let cases = [
            (Error::validation("age", "too young"), Kind::Validation),
            (Error::Unauthorized("invalid token"), Kind::Auth),
            (Error::Forbidden("no"), Kind::Forbidden),
            (Error::NotFound("user"), Kind::NotFound),
            (Error::Conflict("exists"), Kind::Conflict),
            (Error::RateLimited { retry_after: Duration::from_secs(3) }, Kind::RateLimited),
            (Error::LimitExceeded("too many"), Kind::LimitExceeded),
            (Error::PayloadTooLarge { limit: 10 }, Kind::PayloadTooLarge),
            (Error::UnsupportedMediaType("gif"), Kind::UnsupportedMediaType),
            (Error::Unavailable("the database"), Kind::Unavailable),
            (Error::Internal("disk on fire".into()), Kind::Internal),
        ];
        for (err, expected) in &cases {
            assert_eq!(kind(err), *expected, "{err:?}");
            let code = Kind::ALL.iter().find(|(k, _)| k == expected).map(|(_, c)| *c);
            assert_eq!(code, Some(err.code()), "{err:?}");
        }
        assert_eq!(cases.len(), Kind::ALL.len());
    }
}
