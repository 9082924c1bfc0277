//! The `Subscribe` stream: adapts a core [`Subscription`] to a stream of protobuf
//! events, with catch-up first.
//!
//! Order of work: the subscription is opened first, then the missed messages are read
//! with [`DevConnect::catch_up`], then live events follow. A message stored between the
//! two shows up in both; the subscription leaves out the live copies of what the
//! catch-up delivered, so the client sees every message once, in order.

use std::collections::VecDeque;
use std::pin::Pin;

use devconnect_core::{DevConnect, Subscription, UserId};
use futures_util::Stream;
use tokio::sync::watch;
use tonic::Status;

use crate::error::{end_status, shutting_down, status};
use crate::{convert, pb};

/// The stream type of `Subscribe`.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<pb::Event, Status>> + Send + 'static>>;

struct Feed {
    app: DevConnect,
    sub: Subscription,
    /// Events ready to go out before anything else.
    pending: VecDeque<pb::Event>,
    /// Whether catch-up pages may still be due.
    catching_up: bool,
    shutdown: watch::Receiver<bool>,
    done: bool,
    /// Counts this stream in the open-streams gauge while it lives.
    _open: crate::telemetry::StreamGauge,
}

/// The events of `sub` for the stream, after the online users and the messages missed
/// since the message `sub` resumes after, if any.
pub(crate) fn events(
    app: DevConnect,
    sub: Subscription,
    online: &[UserId],
    shutdown: watch::Receiver<bool>,
) -> EventStream {
    let feed = Feed {
        app,
        sub,
        pending: VecDeque::from([convert::online_users(online)]),
        catching_up: true,
        shutdown,
        done: false,
        _open: crate::telemetry::StreamGauge::new(),
    };
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
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            if self.catching_up {
                if let Err(err) = self.catch_up().await {
                    self.done = true;
                    return Some(Err(status(&err)));
                }
                continue;
            }
            tokio::select! {
                event = self.sub.next() => match event {
                    Some(event) => return Some(Ok(event.into())),
                    None => {
                        self.done = true;
                        return Some(Err(end_status(self.sub.end_reason())));
                    }
                },
                _ = self.shutdown.wait_for(|stop| *stop) => {
                    self.done = true;
                    return Some(Err(shutting_down()));
                }
            }
        }
    }

    /// Queues the next page of missed messages.
    async fn catch_up(&mut self) -> devconnect_core::Result<()> {
        let page = self.app.catch_up(&mut self.sub).await?;
        self.catching_up = page.has_more;
        for message in page.messages {
            self.pending.push_back(pb::Event { kind: Some(pb::event::Kind::NewMessage(message.into())) });
        }
        Ok(())
    }
}
