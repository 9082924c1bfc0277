//! Typing indicators, both ways, for a 1:1 chat (keyed by the partner) and a group
//! (keyed by the group): mine is announced on keystrokes at most every few seconds and
//! withdrawn when idle; theirs expire on their own, since a "stopped typing" can be lost.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// After this long without a keystroke, "typing" is withdrawn.
const TYPING_IDLE: Duration = Duration::from_secs(4);
/// "Typing" is re-announced at most this often while typing.
const TYPING_REPEAT: Duration = Duration::from_secs(3);
/// Someone's typing indicator disappears after this long without news.
const TYPING_SHOWN: Duration = Duration::from_secs(6);

/// Whether I told someone (a partner, a group) that I am typing.
#[derive(Clone, Debug)]
pub(super) struct Announcer<K> {
    /// To whom, when it was last announced, and my last keystroke.
    sent: Option<(K, Instant, Instant)>,
}

impl<K> Default for Announcer<K> {
    fn default() -> Self {
        Self { sent: None }
    }
}

impl<K: Copy + PartialEq> Announcer<K> {
    /// A keystroke in the input to `to` at `now`: what to announce (`true` = typing),
    /// at most every [`TYPING_REPEAT`]; a switch of target first withdraws the old one.
    /// Nothing before the first tick says what time it is.
    pub(super) fn keystroke(&mut self, to: K, now: Option<Instant>) -> Vec<(K, bool)> {
        let Some(now) = now else {
            return Vec::new();
        };
        match &mut self.sent {
            Some((who, announced, last_key)) if *who == to => {
                *last_key = now;
                if now.duration_since(*announced) >= TYPING_REPEAT {
                    *announced = now;
                    return vec![(to, true)];
                }
                Vec::new()
            }
            _ => {
                let mut out: Vec<(K, bool)> = self.stop().into_iter().map(|k| (k, false)).collect();
                self.sent = Some((to, now, now));
                out.push((to, true));
                out
            }
        }
    }

    /// Whom to tell I stopped typing, if I had said I was.
    pub(super) fn stop(&mut self) -> Option<K> {
        self.sent.take().map(|(to, _, _)| to)
    }

    /// The clock: whom to tell I stopped, once idle.
    pub(super) fn tick(&mut self, now: Instant) -> Option<K> {
        match self.sent {
            Some((to, _, last_key)) if now.duration_since(last_key) >= TYPING_IDLE => {
                self.sent = None;
                Some(to)
            }
            _ => None,
        }
    }
}

/// Records someone's typing news at `now` in `shown` (until when to show it).
pub(super) fn their_typing<K: Eq + Hash>(shown: &mut HashMap<K, Instant>, who: K, typing: bool, now: Option<Instant>) {
    match (typing, now) {
        (true, Some(now)) => {
            shown.insert(who, now + TYPING_SHOWN);
        }
        (true, None) => {}
        (false, _) => {
            shown.remove(&who);
        }
    }
}
