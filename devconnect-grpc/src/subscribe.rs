//! The `Subscribe` stream: a translation of the core's live session
//! ([`devconnect_core::Live`]: online users, then the messages missed since
//! `last_message_id`, then live events) into protobuf events, ended by a status that
//! says why.

use std::pin::Pin;

use devconnect_core::{Live, LiveItem};
use futures_util::Stream;
use tokio::sync::watch;
use tonic::Status;

use crate::error::{end_status, shutting_down, status};
use crate::{convert, pb};

/// The stream type of `Subscribe`.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<pb::Event, Status>> + Send + 'static>>;

struct Feed {
    live: Live,
    shutdown: watch::Receiver<bool>,
    done: bool,
    /// Counts this stream in the open-streams gauge while it lives.
    _open: crate::telemetry::StreamGauge,
}

/// The items of `live` as the stream's events, until it ends or the server shuts down.
pub(crate) fn events(live: Live, shutdown: watch::Receiver<bool>) -> EventStream {
    let feed = Feed { live, shutdown, done: false, _open: crate::telemetry::StreamGauge::new() };
    Box::pin(futures_util::stream::unfold(feed, |mut feed| async move {
        let item = feed.next().await?;
        Some((item, feed))
    }))
}

impl Feed {
    async fn next(&mut self) -> Option<Result<pb::Event, Status>> {
        loop {
            if self.done {
                return None;
            }
            let item = tokio::select! {
                item = self.live.next() => item,
                _ = self.shutdown.wait_for(|stop| *stop) => {
                    self.done = true;
                    return Some(Err(shutting_down()));
                }
            };
            return match item {
                Some(Ok(LiveItem::Online(online))) => Some(Ok(convert::online_users(&online))),
                Some(Ok(LiveItem::Event(event))) => Some(Ok(event.into())),
                // Added kinds of items mean nothing to this version of the protocol.
                Some(Ok(_)) => continue,
                Some(Err(err)) => {
                    self.done = true;
                    Some(Err(status(&err)))
                }
                None => {
                    self.done = true;
                    Some(Err(end_status(self.live.end_reason())))
                }
            };
        }
    }
}
