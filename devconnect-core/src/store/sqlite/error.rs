//! SQLite failures as the core's errors, mapped in one place.

use crate::{Error, Result};

/// Maps SQLite failures: a constraint violation is a `Conflict`, anything else internal.
pub(super) fn db_err(err: rusqlite::Error) -> Error {
    match err.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => Error::Conflict("already exists"),
        _ => Error::internal(err),
    }
}

/// `.db()`: a rusqlite result with its error mapped by [`db_err`].
pub(super) trait ResultExt<T> {
    fn db(self) -> Result<T>;
}

impl<T> ResultExt<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T> {
        self.map_err(db_err)
    }
}
