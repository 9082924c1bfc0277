//! Fixed pools of named threads taking jobs from one queue: blocking work (password
//! hashing, SQLite reads) kept off the async workers, on a bounded number of threads.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError, mpsc};

/// A job for a pool whose threads each keep a state `S` (a connection, or nothing).
pub(crate) type Job<S> = Box<dyn FnOnce(&mut S) + Send>;

/// Starts `n` (at least one) threads named `{name}-{i}`. Each calls `init` once, then
/// runs every job it takes from the shared queue with the state `init` returned. The
/// threads end once the returned sender (and its clones) are dropped and the queue is
/// drained. A job that panics is logged (its caller sees its reply dropped) and its
/// thread goes on.
pub(crate) fn spawn<S: 'static>(
    name: &str,
    n: usize,
    init: impl Fn() -> S + Send + Clone + 'static,
) -> std::io::Result<mpsc::Sender<Job<S>>> {
    let (jobs, queue) = mpsc::channel::<Job<S>>();
    let queue = Arc::new(Mutex::new(queue));
    for i in 0..n.max(1) {
        let (queue, init) = (Arc::clone(&queue), init.clone());
        std::thread::Builder::new().name(format!("{name}-{i}")).spawn(move || {
            let mut state = init();
            loop {
                // The guard is a temporary: the lock is released as soon as a job is taken.
                let Ok(job) = queue.lock().unwrap_or_else(PoisonError::into_inner).recv() else { return };
                if std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut state))).is_err() {
                    tracing::error!(thread = std::thread::current().name(), "a job panicked");
                }
            }
        })?;
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_with_their_threads_state_and_survive_a_panic() -> Result<(), Box<dyn std::error::Error>> {
        let jobs = spawn("test-pool", 2, || 40)?;
        jobs.send(Box::new(|_| panic!("a failing job"))).map_err(|_| "queue closed")?;
        let (reply, answer) = mpsc::channel();
        for _ in 0..4 {
            let reply = reply.clone();
            jobs.send(Box::new(move |state: &mut i32| {
                *state += 1;
                let _ = reply.send((std::thread::current().name().map(str::to_owned), *state));
            }))
            .map_err(|_| "queue closed")?;
        }
        drop(reply);
        let done: Vec<_> = answer.iter().collect();
        assert_eq!(done.len(), 4, "every job after the panic ran");
        for (name, state) in done {
            assert!(name.is_some_and(|n| n.starts_with("test-pool-")), "named threads");
            assert!((41..=44).contains(&state), "each thread keeps its own state");
        }
        Ok(())
    }
}
