//! A realtime subscription as a blocking Python iterator.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use devconnect_core::{Error, Event, Subscription};
use pyo3::exceptions::PyTimeoutError;
use pyo3::prelude::*;
use tokio::sync::watch;

use crate::convert::ToPy as _;
use crate::{errors, runtime};

/// How long a wait runs without checking for signals (Ctrl-C).
const SIGNAL_CHECK: Duration = Duration::from_millis(200);

/// What waiting for the next event gave.
enum Next {
    Event(Event),
    TimedOut,
    Ended,
}

/// A live stream of realtime events for one user.
///
/// The user is online while any of their subscriptions is open. Iterating yields event
/// dicts `{"event": name, "data": payload}`; each wait lasts at most the subscription's
/// `timeout` (then `TimeoutError`), and iteration stops once the subscription has ended
/// (closed, token revoked or expired, or fallen too far behind). Use it as a context
/// manager, or call `close()`, to go offline promptly.
#[pyclass(name = "Subscription", module = "devconnect", frozen)]
pub(crate) struct PySubscription {
    user_id: String,
    timeout: Option<Duration>,
    stream: Mutex<Option<Subscription>>,
    closing: watch::Sender<bool>,
    end_reason: Mutex<Option<&'static str>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PySubscription {
    pub(crate) fn new(stream: Subscription, timeout: Option<Duration>) -> Self {
        Self {
            user_id: stream.user_id().to_hex(),
            timeout,
            stream: Mutex::new(Some(stream)),
            closing: watch::Sender::new(false),
            end_reason: Mutex::new(None),
        }
    }

    /// Waits for the next event, at most `timeout` (`None`: until one comes or the
    /// subscription ends). The wait runs without the GIL, in slices, so that Ctrl-C
    /// (a pending signal) interrupts a long wait.
    fn wait(&self, py: Python<'_>, timeout: Option<Duration>) -> PyResult<Next> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            let left = deadline.map_or(SIGNAL_CHECK, |d| d.saturating_duration_since(Instant::now()));
            match self.wait_slice(py, left.min(SIGNAL_CHECK))? {
                Next::TimedOut if deadline.is_none_or(|d| Instant::now() < d) => py.check_signals()?,
                next => return Ok(next),
            }
        }
    }

    /// One wait of at most `slice`, with the GIL released.
    fn wait_slice(&self, py: Python<'_>, slice: Duration) -> PyResult<Next> {
        let outcome = py.detach(|| -> Result<Next, Error> {
            let mut closing = self.closing.subscribe();
            let mut stream = lock(&self.stream);
            let Some(sub) = stream.as_mut() else { return Ok(Next::Ended) };
            let next = runtime()?.block_on(async {
                tokio::select! {
                    biased;
                    _ = closing.wait_for(|closed| *closed) => Next::Ended,
                    next = tokio::time::timeout(slice, sub.next()) => match next {
                        Ok(Some(event)) => Next::Event(event),
                        Ok(None) => Next::Ended,
                        Err(_elapsed) => Next::TimedOut,
                    },
                }
            });
            if let Next::Ended = next {
                let reason = sub.end_reason().map_or("closed", |r| r.code());
                lock(&self.end_reason).get_or_insert(reason);
                let _enter = runtime()?.enter();
                stream.take();
            }
            Ok(next)
        });
        outcome.map_err(|e| errors::to_py_err(py, &e))
    }

    fn effective_timeout(&self, timeout: Option<f64>) -> PyResult<Option<Duration>> {
        match timeout {
            None => Ok(self.timeout),
            Some(secs) => seconds(secs).map(Some),
        }
    }
}

/// A timeout in seconds as a `Duration`; negative or non-finite values are refused.
pub(crate) fn seconds(secs: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(secs)
        .map_err(|_| pyo3::exceptions::PyValueError::new_err("timeout must be a non-negative number of seconds"))
}

#[pymethods]
impl PySubscription {
    /// The user this subscription is for (24-hex id).
    #[getter]
    fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The default wait per event in seconds (`None`: wait forever).
    #[getter]
    fn timeout(&self) -> Option<f64> {
        self.timeout.map(|t| t.as_secs_f64())
    }

    /// `None` while live; once ended, why: `"closed"`, `"token_revoked"`,
    /// `"token_expired"` or `"lagged"`.
    #[getter]
    fn end_reason(&self) -> Option<&'static str> {
        *lock(&self.end_reason)
    }

    /// Whether the subscription has ended.
    #[getter]
    fn closed(&self) -> bool {
        lock(&self.end_reason).is_some()
    }

    /// The next event dict, waiting at most `timeout` seconds (default: the
    /// subscription's timeout). Returns `None` if nothing arrived in time or the
    /// subscription has ended (see `end_reason`).
    #[pyo3(signature = (timeout=None))]
    fn next_event<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let timeout = self.effective_timeout(timeout)?;
        match self.wait(py, timeout)? {
            Next::Event(event) => event.to_py(py).map(Some),
            Next::TimedOut | Next::Ended => Ok(None),
        }
    }

    /// Ends the subscription now (idempotent). If it was the user's last one, they go
    /// offline and their online connections are told. A thread blocked waiting on this
    /// subscription returns at once.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.closing.send_replace(true);
        let outcome = py.detach(|| -> Result<(), Error> {
            let stream = lock(&self.stream).take();
            lock(&self.end_reason).get_or_insert("closed");
            let _enter = runtime()?.enter();
            drop(stream);
            Ok(())
        });
        outcome.map_err(|e| errors::to_py_err(py, &e))
    }

    /// Returns itself.
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next event; `TimeoutError` if none arrives within `timeout`; stops when ended.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.wait(py, self.timeout)? {
            Next::Event(event) => event.to_py(py).map(Some),
            Next::TimedOut => Err(PyTimeoutError::new_err("no realtime event within the timeout")),
            Next::Ended => Ok(None),
        }
    }

    /// Returns itself, to be closed on exit.
    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Closes; exceptions propagate.
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: &Bound<'_, PyAny>,
        exc: &Bound<'_, PyAny>,
        tb: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let _ = (exc_type, exc, tb);
        self.close(py)?;
        Ok(false)
    }

    /// A short description.
    fn __repr__(&self) -> String {
        match self.end_reason() {
            None => format!("<devconnect.Subscription user_id={:?} live>", self.user_id),
            Some(reason) => format!("<devconnect.Subscription user_id={:?} ended={reason:?}>", self.user_id),
        }
    }
}

impl Drop for PySubscription {
    fn drop(&mut self) {
        // Dropping the core stream may touch tokio's timer; do it inside the runtime.
        let stream = self.stream.get_mut().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(rt) = crate::RUNTIME.get() {
            let _enter = rt.enter();
            drop(stream);
        }
    }
}
