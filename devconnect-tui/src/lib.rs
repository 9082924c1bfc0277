//! `devconnect-tui`: DevConnect in the terminal.
//!
//! - [`app`]: the state and its `update(Msg) -> Vec<Command>`, free of I/O.
//! - [`ui`]: drawing, a pure function of the state. `ui` reads `app`; `app` never
//!   names `ui`, so the state logic builds and tests without any drawing.
//! - [`runtime`]: carries out commands (REST calls, the realtime connection) and
//!   reports back as messages.
//! - [`input`]: a Unicode-aware one-line editor.
//! - [`config`]: command-line options and the saved session.
//!
//! [`run`] wires them to a real terminal: one loop draws, waits for the next message
//! (a key, a reply, a realtime event, a tick), updates, and executes the commands.

pub mod app;
pub mod config;
pub mod input;
pub mod runtime;
pub mod ui;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use devconnect_client::Client;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, DisableBracketedPaste, EnableBracketedPaste, Event, KeyEventKind};
use ratatui::crossterm::execute;
use tokio::sync::mpsc;

use crate::app::{App, Msg};
use crate::config::{Options, SessionStore};
use crate::runtime::Runtime;

/// Why the client stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The server URL is unusable.
    #[error("{0}")]
    Server(String),
    /// The terminal could not be set up or drawn.
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

/// Runs the client until the user quits.
pub async fn run(options: Options) -> Result<(), RunError> {
    let client = Client::new(&options.server).map_err(|e| RunError::Server(e.to_string()))?;
    let store = options.config_dir().ok().map(|dir| SessionStore::new(&dir));
    let token = store.as_ref().and_then(|s| s.load(client.base_url()));
    client.set_token(token.clone());
    let nonce = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let (mut app, first) = App::new(client.base_url(), token.is_some(), &format!("{nonce:x}"));
    if store.is_none() {
        app.notice = Some(app::Notice {
            text: "No config directory (set HOME or XDG_CONFIG_HOME, or --config-dir): the login will not be kept."
                .to_owned(),
            error: true,
        });
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let mut runtime = Runtime::new(client, tx.clone(), store);

    let mut terminal = ratatui::try_init()?;
    let _ = execute!(std::io::stdout(), EnableBracketedPaste);
    let input_thread = spawn_input_thread(tx.clone());
    let ticker = tokio::spawn({
        let tx = tx.clone();
        async move {
            let mut interval = tokio::time::interval(Duration::from_millis(500));
            loop {
                interval.tick().await;
                if tx.send(Msg::Tick(Instant::now())).is_err() {
                    break;
                }
            }
        }
    });
    drop(tx);
    let result = main_loop(&mut terminal, &mut app, &mut runtime, first, rx).await;
    ticker.abort();
    let _ = execute!(std::io::stdout(), DisableBracketedPaste);
    ratatui::restore();
    drop(input_thread);
    result
}

async fn main_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    runtime: &mut Runtime,
    first: Vec<app::Command>,
    mut rx: mpsc::UnboundedReceiver<Msg>,
) -> Result<(), RunError> {
    execute_all(app, runtime, first);
    loop {
        terminal.draw(|frame| ui::render(app, frame))?;
        let Some(msg) = rx.recv().await else { break };
        let commands = app.update(msg);
        execute_all(app, runtime, commands);
        // Take everything already waiting before drawing again.
        while let Ok(msg) = rx.try_recv() {
            let commands = app.update(msg);
            execute_all(app, runtime, commands);
        }
        if app.quit {
            runtime.execute(app::Command::StopLive);
            break;
        }
    }
    Ok(())
}

fn execute_all(app: &mut App, runtime: &mut Runtime, commands: Vec<app::Command>) {
    for command in commands {
        if let Some(problem) = runtime.execute(command) {
            app.notice = Some(app::Notice { text: problem, error: true });
        }
    }
    runtime.note_last_message(app.last_message_id());
}

/// Reads terminal events on a thread of its own (crossterm's reads block).
fn spawn_input_thread(tx: mpsc::UnboundedSender<Msg>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        loop {
            if tx.is_closed() {
                return;
            }
            match event::poll(Duration::from_millis(200)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => return,
            }
            let msg = match event::read() {
                Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Msg::Key(key),
                Ok(Event::Paste(text)) => Msg::Paste(text),
                // A resize only needs a redraw; a tick does that.
                Ok(Event::Resize(..)) => Msg::Tick(Instant::now()),
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    })
}

#[cfg(test)]
mod tests;
