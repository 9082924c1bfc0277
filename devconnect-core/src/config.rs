//! Plain configuration of the service. Binaries fill it from flags and environment;
//! the core reads no environment itself.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::limits::RateLimit;
use crate::media::DEFAULT_UPLOAD_LIMIT;
use crate::{Error, Result};

/// A JWT secret shorter than this many bytes is refused.
pub const MIN_JWT_SECRET_BYTES: usize = 32;
/// Name of the generated secret's file in the data directory.
pub const JWT_SECRET_FILE: &str = "jwt-secret";

/// How to open a [`DevConnect`](crate::DevConnect).
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the service keeps its files: the default database, media and generated secret.
    pub data_dir: PathBuf,
    /// `sqlite://PATH`, `sqlite::memory:`; default `sqlite://{data_dir}/devconnect.db`.
    pub database_url: Option<String>,
    /// The JWT signing secret; when `None`, a random one is generated once and kept in
    /// `{data_dir}/jwt-secret` (mode 0600).
    pub jwt_secret: Option<SecretString>,
    /// Where images go.
    pub media: MediaConfig,
    /// Limits and tunables.
    pub settings: Settings,
}

/// Which [`MediaStore`](crate::MediaStore) to use.
#[derive(Clone, Debug)]
pub enum MediaConfig {
    /// Files in a local directory (default `{data_dir}/media`), served under `base_url`.
    Local {
        /// The directory; `None` for `{data_dir}/media`.
        dir: Option<PathBuf>,
        /// The URL prefix clients load images from, e.g. `/media`.
        base_url: String,
    },
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self::Local { dir: None, base_url: "/media".to_owned() }
    }
}

/// Limits and tunables with sensible defaults.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How long a token is valid. Default 7 days.
    pub token_ttl: Duration,
    /// Largest accepted image upload in bytes. Default 3 MiB.
    pub upload_limit: usize,
    /// Password hashes computed at once. Default: the number of cores.
    pub hash_concurrency: usize,
    /// Events buffered per subscription before a slow subscriber is ended. Default 256.
    pub event_queue: usize,
    /// Messages one user may send per minute. Default 120.
    pub message_rate: RateLimit,
    /// Connection requests one user may send per minute. Default 30.
    pub request_rate: RateLimit,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            token_ttl: Duration::from_secs(7 * 24 * 60 * 60),
            upload_limit: DEFAULT_UPLOAD_LIMIT,
            hash_concurrency: std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            event_queue: 256,
            message_rate: RateLimit::per_minute(120),
            request_rate: RateLimit::per_minute(30),
        }
    }
}

impl Config {
    /// Defaults for everything, with files under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database_url: None,
            jwt_secret: None,
            media: MediaConfig::default(),
            settings: Settings::default(),
        }
    }

    /// The local media directory in effect, if media is kept locally.
    #[must_use]
    pub fn media_dir(&self) -> Option<PathBuf> {
        match &self.media {
            MediaConfig::Local { dir, .. } => Some(dir.clone().unwrap_or_else(|| self.data_dir.join("media"))),
        }
    }

    /// The database URL in effect.
    #[must_use]
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("devconnect.db").display()))
    }
}

/// Checks a configured secret, or loads (creating on first use) the one in `data_dir`.
pub(crate) fn jwt_secret(configured: Option<&SecretString>, data_dir: &Path) -> Result<SecretString> {
    if let Some(secret) = configured {
        if secret.expose_secret().len() < MIN_JWT_SECRET_BYTES {
            return Err(Error::validation("jwtSecret", format!("must be at least {MIN_JWT_SECRET_BYTES} bytes")));
        }
        return Ok(secret.clone());
    }
    load_or_create_secret(&data_dir.join(JWT_SECRET_FILE))
}

fn load_or_create_secret(path: &Path) -> Result<SecretString> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt as _;

    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Error::internal)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    match options.open(path) {
        Ok(mut file) => {
            let secret = hex::encode(crate::random_bytes::<32>()?);
            file.write_all(secret.as_bytes()).map_err(Error::internal)?;
            file.sync_all().map_err(Error::internal)?;
            tracing::info!(path = %path.display(), "generated a new JWT secret");
            Ok(SecretString::from(secret))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let secret = std::fs::read_to_string(path).map_err(Error::internal)?;
            let secret = secret.trim();
            if secret.len() < MIN_JWT_SECRET_BYTES {
                return Err(Error::internal(format!("the JWT secret in {} is too short", path.display())));
            }
            Ok(SecretString::from(secret.to_owned()))
        }
        Err(e) => Err(Error::internal(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_private_and_stable() {
        let dir = tempfile::tempdir();
        let Ok(dir) = dir else { return assert!(dir.is_ok()) };
        let first = jwt_secret(None, dir.path()).map(|s| s.expose_secret().to_owned()).ok();
        let second = jwt_secret(None, dir.path()).map(|s| s.expose_secret().to_owned()).ok();
        assert!(first.as_ref().is_some_and(|s| s.len() == 64));
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(JWT_SECRET_FILE)).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
    }

    #[test]
    fn short_configured_secrets_are_refused() {
        let short = SecretString::from("short".to_owned());
        assert!(jwt_secret(Some(&short), Path::new("/nonexistent")).is_err());
    }
}
