//! Driver failures as the core's errors, mapped in one place.

use mongodb::error::{ErrorKind, WriteFailure};

use crate::Error;

/// The name of the unique index on message positions (the driver's default name).
pub(super) const SEQ_INDEX: &str = "seq_1";

/// MongoDB's duplicate key error.
pub(super) const DUPLICATE_KEY: i32 = 11000;

/// Maps a driver failure: a unique index violation is a `Conflict`; no reachable server
/// (down, partitioned, failing over) is `Unavailable`, so clients see a retryable 503
/// rather than an opaque 500 while the driver reconnects; anything else is internal.
/// Both of the latter are logged with their cause.
pub(super) fn db_err(err: mongodb::error::Error) -> Error {
    if is_duplicate_key(&err) {
        return Error::Conflict("already exists");
    }
    match err.kind.as_ref() {
        ErrorKind::ServerSelection { .. } | ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. } => {
            tracing::warn!(error = %err, "MongoDB unreachable");
            Error::Unavailable("the database is unreachable; try again shortly")
        }
        _ => Error::internal(err),
    }
}

/// Whether an insert failed because another instance stored a message at the same
/// position first (the unique position index refused it).
pub(super) fn is_position_taken(err: &mongodb::error::Error) -> bool {
    is_duplicate_key(err) && error_message(err).is_some_and(|m| m.contains(SEQ_INDEX))
}

pub(super) fn error_message(err: &mongodb::error::Error) -> Option<&str> {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => Some(&e.message),
        ErrorKind::Command(e) => Some(&e.message),
        _ => None,
    }
}

pub(super) fn error_code(err: &mongodb::error::Error) -> Option<i32> {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => Some(e.code),
        ErrorKind::Command(e) => Some(e.code),
        ErrorKind::InsertMany(e) => e.write_errors.as_ref().and_then(|w| w.first()).map(|e| e.code),
        _ => None,
    }
}

pub(super) fn is_duplicate_key(err: &mongodb::error::Error) -> bool {
    error_code(err) == Some(DUPLICATE_KEY)
}
