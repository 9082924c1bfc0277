//! The process's tracing subscriber, installed once at start-up by a server binary.

/// Why [`init_tracing`] could not install the subscriber.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TracingError {
    /// The filter (`--log`) is not valid `EnvFilter` syntax.
    #[error("--log: {0}")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
    /// A global subscriber (or `log` logger) was already installed.
    #[error("{0}")]
    Install(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Installs the global tracing subscriber (once, in `main`): `filter` in `EnvFilter`
/// syntax (`--log`), lines to stdout, coloured only when stdout is a terminal (so log
/// files and collectors get no escape codes).
pub fn init_tracing(filter: &str) -> Result<(), TracingError> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .try_init()
        .map_err(TracingError::Install)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_filter_names_the_flag() {
        let err = init_tracing("devconnect=loud").err();
        assert!(err.is_some_and(|e| matches!(e, TracingError::Filter(_)) && e.to_string().starts_with("--log: ")));
    }
}
