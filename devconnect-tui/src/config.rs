//! Command-line options and the saved session (the token, kept in the user's config
//! directory, readable by the user only).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `devconnect-tui` options.
#[derive(Clone, Debug, clap::Parser)]
#[command(name = "devconnect-tui", version, about = "DevConnect in the terminal: chat, feed, requests, profile.")]
pub struct Options {
    /// The DevConnect server's base URL.
    #[arg(long, env = "DEVCONNECT_SERVER", default_value = "http://127.0.0.1:3000")]
    pub server: String,
    /// Where the session file is kept. Default: `$XDG_CONFIG_HOME/devconnect`, else
    /// `~/.config/devconnect`.
    #[arg(long, env = "DEVCONNECT_CONFIG_DIR")]
    pub config_dir: Option<PathBuf>,
}

impl Options {
    /// The config directory in effect.
    pub fn config_dir(&self) -> Result<PathBuf, SessionError> {
        match &self.config_dir {
            Some(dir) => Ok(dir.clone()),
            None => default_config_dir(|k| std::env::var_os(k)).ok_or(SessionError::NoConfigDir),
        }
    }
}

/// `$XDG_CONFIG_HOME/devconnect`, else `$HOME/.config/devconnect`.
pub fn default_config_dir(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let base = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("devconnect"))
}

/// Why the session file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Neither `XDG_CONFIG_HOME` nor `HOME` is set.
    #[error("no config directory: set XDG_CONFIG_HOME or HOME, or pass --config-dir")]
    NoConfigDir,
    /// Reading or writing failed.
    #[error("session file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

#[derive(Serialize, Deserialize)]
struct SavedSession {
    server: String,
    token: String,
}

/// The session file of one config directory.
#[derive(Clone, Debug)]
pub struct SessionStore {
    path: PathBuf,
}

impl SessionStore {
    /// The store in `dir` (the file is `dir/session.json`).
    #[must_use]
    pub fn new(dir: &Path) -> Self {
        Self { path: dir.join("session.json") }
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> SessionError {
        SessionError::Io { path: self.path.clone(), source }
    }

    /// The token saved for `server`, if any (a file for another server, or an
    /// unreadable one, counts as none).
    #[must_use]
    pub fn load(&self, server: &str) -> Option<String> {
        let bytes = fs::read(&self.path).ok()?;
        let saved: SavedSession = serde_json::from_slice(&bytes).ok()?;
        (saved.server == server && !saved.token.is_empty()).then_some(saved.token)
    }

    /// Saves the token for `server`; the file (and a new directory) is readable by the user only.
    pub fn save(&self, server: &str, token: &str) -> Result<(), SessionError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(|e| self.io(e))?;
        let body = serde_json::to_vec(&SavedSession { server: server.to_owned(), token: token.to_owned() })
            .map_err(|e| self.io(std::io::Error::other(e)))?;
        let tmp = self.path.with_extension("json.tmp");
        let _ = fs::remove_file(&tmp);
        let mut file = private_file(&tmp).map_err(|e| self.io(e))?;
        file.write_all(&body).and_then(|()| file.sync_all()).map_err(|e| self.io(e))?;
        fs::rename(&tmp, &self.path).map_err(|e| self.io(e))
    }

    /// Forgets the saved token.
    pub fn forget(&self) -> Result<(), SessionError> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(self.io(e)),
            _ => Ok(()),
        }
    }
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on any unexpected error")]
mod tests {
    use super::*;

    #[test]
    fn xdg_config_home_wins_over_home() {
        let vars = |k: &str| match k {
            "XDG_CONFIG_HOME" => Some("/x/cfg".into()),
            "HOME" => Some("/home/ada".into()),
            _ => None,
        };
        assert_eq!(default_config_dir(vars), Some(PathBuf::from("/x/cfg/devconnect")));
        let home_only = |k: &str| (k == "HOME").then(|| "/home/ada".into());
        assert_eq!(default_config_dir(home_only), Some(PathBuf::from("/home/ada/.config/devconnect")));
        assert_eq!(default_config_dir(|_| None), None);
    }

    #[test]
    fn the_token_is_saved_privately_per_server_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(&dir.path().join("devconnect"));
        assert_eq!(store.load("http://a"), None);
        store.save("http://a", "tok1").unwrap();
        assert_eq!(store.load("http://a").as_deref(), Some("tok1"));
        assert_eq!(store.load("http://b"), None);
        store.save("http://a", "tok2").unwrap();
        assert_eq!(store.load("http://a").as_deref(), Some("tok2"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(store.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        store.forget().unwrap();
        assert_eq!(store.load("http://a"), None);
        store.forget().unwrap();
    }
}
