//! The accept loop both servers run: each accepted connection is served on a task of
//! its own, and the tasks are tracked so that a shutdown can wait for them all.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How long to wait after a failed accept (out of file descriptors and the like)
/// before the next one, instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The connection tasks started by [`accept`].
#[derive(Debug)]
pub struct Connections {
    /// Every connection task holds a clone; `all_closed` ends once all are dropped.
    tracker: mpsc::Sender<()>,
    all_closed: mpsc::Receiver<()>,
}

impl Connections {
    /// Resolves once every connection task has ended.
    pub async fn closed(self) {
        let Self { tracker, mut all_closed } = self;
        drop(tracker);
        let _ = all_closed.recv().await;
    }
}

/// Accepts connections on `listener` until `stop` completes, and serves each (with
/// `TCP_NODELAY` set) by the future `serve` makes of it, on a task of its own. The
/// listener is closed when this returns; the connections it accepted may still be open.
pub async fn accept<F, Fut>(listener: TcpListener, stop: impl Future<Output = ()>, mut serve: F) -> Connections
where
    F: FnMut(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tracker, all_closed) = mpsc::channel(1);
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let connection = serve(stream, peer);
                    let tracker = tracker.clone();
                    tokio::spawn(async move {
                        connection.await;
                        drop(tracker);
                    });
                }
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            () = &mut stop => break,
        }
    }
    Connections { tracker, all_closed }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_are_served_until_stop_and_closed_waits_for_them() {
        let Ok(listener) = TcpListener::bind("127.0.0.1:0").await else { panic!("bind") };
        let Ok(addr) = listener.local_addr() else { panic!("local addr") };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (release, held) = tokio::sync::watch::channel(false);
        let (served, mut served_rx) = mpsc::unbounded_channel();
        let server = tokio::spawn(accept(
            listener,
            async move {
                let _ = stopped.await;
            },
            move |_stream, peer| {
                let (served, mut held) = (served.clone(), held.clone());
                async move {
                    let _ = served.send(peer);
                    let _ = held.wait_for(|released| *released).await;
                }
            },
        ));
        let client = TcpStream::connect(addr).await;
        assert!(client.is_ok());
        assert!(served_rx.recv().await.is_some(), "the connection is served");
        let _ = stop.send(());
        let Ok(connections) = server.await else { panic!("the accept loop panicked") };
        assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed");
        let mut closed = std::pin::pin!(connections.closed());
        assert!(poll_once(closed.as_mut()).await.is_none(), "a connection is still being served");
        let _ = release.send(true);
        closed.await;
    }

    /// Polls `future` once: its output if it was ready.
    async fn poll_once<T>(mut future: std::pin::Pin<&mut impl Future<Output = T>>) -> Option<T> {
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match future.as_mut().poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
