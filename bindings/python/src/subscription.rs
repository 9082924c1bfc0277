//! A live session ([`devconnect_core::Live`]) as a blocking Python iterator: its events
//! (missed messages first, when resuming) are yielded, and who is online is an
//! attribute kept current.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use devconnect_core::{Error, Event, Live, LiveItem};
use pyo3::exceptions::PyTimeoutError;
use pyo3::prelude::*;
use tokio::sync::watch;

use crate::calls::{RUNTIME, runtime};
use crate::convert::ToPy as _;
use crate::errors;

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
/// dicts `{"event": name, "data": payload}`: when resuming after a message, the ones
/// missed since, in order, then live events. `online` says who is online (the user
/// first, then their online connections). Each wait lasts at most the subscription's
/// `timeout` (then `TimeoutError`), and iteration stops once the subscription has ended
/// (closed, token revoked or expired, or fallen too far behind). Use it as a context
/// manager, or call `close()`, to go offline promptly.
#[pyclass(name = "Subscription", module = "devconnect", frozen)]
pub(crate) struct PySubscription {
    user_id: String,
    timeout: Option<Duration>,
    stream: Mutex<Option<Live>>,
    /// Who is online, as of the last item read; kept apart from `stream` so that reading
    /// it never waits for a thread blocked on the next event.
    online: Mutex<Vec<String>>,
    closing: watch::Sender<bool>,
    end_reason: Mutex<Option<&'static str>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PySubscription {
    pub(crate) fn new(stream: Live, timeout: Option<Duration>) -> Self {
        Self {
            user_id: stream.user_id().to_hex(),
            timeout,
            online: Mutex::new(hex(stream.online())),
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
            let Some(live) = stream.as_mut() else { return Ok(Next::Ended) };
            let deadline = tokio::time::Instant::now() + slice;
            let next = runtime()?.block_on(async {
                loop {
                    let item = tokio::select! {
                        biased;
                        _ = closing.wait_for(|closed| *closed) => return Ok(Next::Ended),
                        item = tokio::time::timeout_at(deadline, live.next()) => match item {
                            Ok(item) => item,
                            Err(_elapsed) => return Ok(Next::TimedOut),
                        },
                    };
                    match item {
                        // Kept as the `online` attribute, not yielded.
                        Some(Ok(LiveItem::Online(online))) => *lock(&self.online) = hex(&online),
                        Some(Ok(LiveItem::Event(event))) => {
                            // Presence changes the `online` attribute too.
                            if matches!(event, Event::Presence { .. }) {
                                *lock(&self.online) = hex(live.online());
                            }
                            return Ok(Next::Event(event));
                        }
                        Some(Ok(_)) => {}
                        Some(Err(err)) => {
                            lock(&self.end_reason).get_or_insert(err.code());
                            return Err(err);
                        }
                        None => return Ok(Next::Ended),
                    }
                }
            })?;
            if let Next::Ended = next {
                let reason = live.end_reason().map_or("closed", |r| r.code());
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

fn hex(ids: &[devconnect_core::UserId]) -> Vec<String> {
    ids.iter().map(|id| id.to_hex()).collect()
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
    /// `"token_expired"` or `"lagged"` (or an error's code, if reading what was missed
    /// failed: that error was raised).
    #[getter]
    fn end_reason(&self) -> Option<&'static str> {
        *lock(&self.end_reason)
    }

    /// The user (first) and those of their connections who are online, as 24-hex ids;
    /// current as of the last event read.
    #[getter]
    fn online(&self) -> Vec<String> {
        lock(&self.online).clone()
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
        if let Some(rt) = RUNTIME.get() {
            let _enter = rt.enter();
            drop(stream);
        }
    }
}
