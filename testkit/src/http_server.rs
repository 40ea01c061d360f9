//! The HTTP server under a fake: on loopback without Nagle's delay (small streamed chunks go
//! out at once, as from the real services), stopped gracefully or, when dropped, at once.

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct FakeHttpServer {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl FakeHttpServer {
    /// Serves `app` on `listener`; `name` goes into the log if serving fails.
    pub fn spawn(listener: TcpListener, app: Router, name: &'static str) -> FakeHttpServer {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = server.await {
                tracing::warn!(error = %e, "{name} server stopped");
            }
        });
        FakeHttpServer {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops accepting and waits for open requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeHttpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Graceful shutdown would wait for hanging requests; a dropped fake must not linger.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
