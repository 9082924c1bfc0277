//! Calling into the core from Python: one multi-threaded tokio runtime, created on first
//! use, owned by the module and shared by every `DevConnect` object (any number of
//! Python threads may call in at once); each call runs with the GIL released; arguments
//! decoded the same way by every method.

use std::future::Future;
use std::sync::OnceLock;

use devconnect_core::{Error, GroupId, Invalid, PushSubscription, UserId};
use devconnect_types::push::PushKeys;
use pyo3::prelude::*;

use crate::convert::ToPy;
use crate::errors;

/// The module's tokio runtime.
pub(crate) static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// The module's runtime, created on first use.
pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime, Error> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("devconnect")
        .build()
        .map_err(Error::internal)?;
    // If another thread won the race, its runtime is kept and this one dropped.
    Ok(RUNTIME.get_or_init(|| rt))
}

/// Runs a core call to completion on the module's runtime with the GIL released.
pub(crate) fn run<T, F>(py: Python<'_>, call: F) -> PyResult<T>
where
    F: Future<Output = devconnect_core::Result<T>> + Send,
    T: Send,
{
    py.detach(|| runtime()?.block_on(call)).map_err(|e| errors::to_py_err(py, &e))
}

/// Runs a core call and converts its result to Python data.
pub(crate) fn call<'py, T, F>(py: Python<'py>, call: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = devconnect_core::Result<T>> + Send,
    T: Send + ToPy,
{
    run(py, call)?.to_py(py)
}

pub(crate) fn user_id(py: Python<'_>, field: &'static str, raw: &str) -> PyResult<UserId> {
    UserId::parse(field, raw).map_err(|e| errors::to_py_err(py, &e.into()))
}

/// An argument the core parsed (an id, a status word), or the core's validation error.
pub(crate) fn parsed<T>(py: Python<'_>, parsed: Result<T, Invalid>) -> PyResult<T> {
    parsed.map_err(|e| errors::to_py_err(py, &e.into()))
}

/// A group id argument, naming `group_id` in the error if it is malformed.
pub(crate) fn group_id_of(py: Python<'_>, raw: &str) -> PyResult<GroupId> {
    GroupId::parse("group_id", raw).map_err(|e| errors::to_py_err(py, &e.into()))
}

/// A browser's push subscription in its JSON shape (`subscription.toJSON()`):
/// `{"endpoint": str, "keys": {"p256dh": str, "auth": str}}`; other keys, such as
/// `expirationTime`, are ignored. A missing or non-string field is a `ValidationError`
/// naming it; the core checks the values.
pub(crate) fn push_subscription(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<PushSubscription> {
    let invalid = |field: &'static str| errors::to_py_err(py, &Error::validation(field, "is required (a string)"));
    let text = |from: &Bound<'_, PyAny>, key: &str, field: &'static str| -> PyResult<String> {
        from.get_item(key).and_then(|v| v.extract::<String>()).map_err(|_| invalid(field))
    };
    let keys = value.get_item("keys").map_err(|_| invalid("keys"))?;
    Ok(PushSubscription {
        endpoint: text(value, "endpoint", "endpoint")?,
        keys: PushKeys { p256dh: text(&keys, "p256dh", "keys.p256dh")?, auth: text(&keys, "auth", "keys.auth")? },
    })
}

/// A Python int as a `u32` page number or size: negative becomes 0 and too large
/// becomes `u32::MAX`, so the core's own checks (and caps) decide.
pub(crate) fn page_number(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_leave_range_checks_to_the_core() {
        assert_eq!(page_number(-5), 0);
        assert_eq!(page_number(3), 3);
        assert_eq!(page_number(i64::MAX), u32::MAX);
    }
}
