//! The descriptor limit: every socket a server holds is a file descriptor, and the usual
//! soft limit (1,024) would refuse connections long before memory runs out.

/// Raises this process's soft limit of open files to its hard limit (which only root,
/// systemd's `LimitNOFILE=` or `ulimit -Hn` can raise), and logs the limit in effect.
/// Call once at start, after [`init_tracing`](crate::init_tracing).
pub fn raise_descriptor_limit() {
    match raise() {
        Ok(limit) => tracing::info!(limit, "open files (one per socket)"),
        Err(err) => tracing::warn!(%err, "could not raise the open-files limit"),
    }
}

/// The soft limit now in effect.
fn raise() -> std::io::Result<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        setrlimit(Resource::Nofile, rustix::process::Rlimit { current: limit.maximum, ..limit })?;
    }
    // `None` is unlimited.
    Ok(getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_reaches_the_hard_limit() {
        let raised = raise();
        let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum.unwrap_or(u64::MAX);
        assert_eq!(raised.ok(), Some(hard));
    }
}
