//! Test fixtures: the configured business, a fresh SQLite file, a fresh PostgreSQL schema.

pub mod balancer;
pub mod binary;
pub mod browser;
pub mod replay;
pub mod served;
pub mod tcp_balancer;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use frontdesk::storage::{self, Storage};
use frontdesk_engine::business::Business;
use sqlx::Connection;

/// The server the project's CI script starts. Tests fail (never skip) when it is not there.
pub const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn business() -> Business {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/business.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    Business::from_yaml(&text).unwrap()
}

/// Runs `body` against a storage freshly opened at `url`. The body runs in its own task so a
/// failing assertion still lets the caller clean up before the panic is passed on.
async fn run_body<F, Fut>(url: String, body: F) -> Result<(), tokio::task::JoinError>
where
    F: FnOnce(Arc<dyn Storage>, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let store = storage::open(&url).await.unwrap();
    store.sync_business(&business()).await.unwrap();
    let result = tokio::spawn(body(store.clone(), url)).await;
    store.close().await;
    result
}

fn resume(result: Result<(), tokio::task::JoinError>) {
    if let Err(e) = result {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("test task failed: {e}");
    }
}

pub async fn with_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Arc<dyn Storage>, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    // A nested directory proves that `open` creates parents too.
    let url = format!("sqlite://{}/data/frontdesk.db", dir.path().display());
    resume(run_body(url, body).await);
}

pub async fn with_postgres<F, Fut>(body: F)
where
    F: FnOnce(Arc<dyn Storage>, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!(
        "fd_test_{}_{}_{}",
        std::process::id(),
        nanos,
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin =
        match tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(PG_URL))
            .await
        {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => panic!(
                "PostgreSQL is required for these tests and is not usable at {PG_URL}: {e}. \
             Start it (the CI script does) and re-run."
            ),
            Err(_) => {
                panic!("PostgreSQL at {PG_URL} did not answer within 5 s; start it and re-run.")
            }
        };
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = format!("{PG_URL}?options=-c%20search_path%3D{schema}");
    let result = run_body(url, body).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await
        .unwrap();
    resume(result);
}

/// One test body, two entry points: `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                $crate::support::with_sqlite(super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                $crate::support::with_postgres(super::$name).await;
            }
        }
    )*};
}

/// What a [`Relay`] does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayMode {
    Forward,
    /// Keeps every connection open and accepts new ones, and forwards nothing: a host that
    /// stopped answering.
    Dark,
    /// Closes every connection and refuses new ones: a server that went down.
    Cut,
}

/// A TCP relay on loopback in front of a real service (Redis, PostgreSQL), to take it away
/// and give it back the ways production loses it.
pub struct Relay {
    pub addr: std::net::SocketAddr,
    mode: tokio::sync::watch::Sender<RelayMode>,
}

impl Relay {
    pub async fn start(upstream: &'static str) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, watching) = tokio::sync::watch::channel(RelayMode::Forward);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mode = watching.clone();
                let now = *mode.borrow();
                match now {
                    RelayMode::Cut => drop(client),
                    RelayMode::Dark => {
                        tokio::spawn(async move {
                            let _held = client;
                            hold_until_cut(mode).await;
                        });
                    }
                    RelayMode::Forward => {
                        tokio::spawn(relay_connection(client, upstream, mode));
                    }
                }
            }
        });
        Relay { addr, mode }
    }

    pub fn set(&self, mode: RelayMode) {
        self.mode.send_replace(mode);
    }
}

async fn hold_until_cut(mut mode: tokio::sync::watch::Receiver<RelayMode>) {
    while mode.changed().await.is_ok() {
        if *mode.borrow() == RelayMode::Cut {
            return;
        }
    }
}

async fn relay_connection(
    client: tokio::net::TcpStream,
    upstream: &'static str,
    mut mode: tokio::sync::watch::Receiver<RelayMode>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let (mut up, mut down) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    loop {
        let forwarded = tokio::select! {
            read = client_read.read(&mut up) => match read {
                Ok(n) if n > 0 && *mode.borrow() == RelayMode::Forward => {
                    server_write.write_all(&up[..n]).await.is_ok()
                }
                Ok(n) if n > 0 => {
                    hold_until_cut(mode).await;
                    return;
                }
                _ => false,
            },
            read = server_read.read(&mut down) => match read {
                Ok(n) if n > 0 && *mode.borrow() == RelayMode::Forward => {
                    client_write.write_all(&down[..n]).await.is_ok()
                }
                Ok(n) if n > 0 => {
                    hold_until_cut(mode).await;
                    return;
                }
                _ => false,
            },
            changed = mode.changed() => changed.is_ok() && *mode.borrow() != RelayMode::Cut,
        };
        if !forwarded {
            return;
        }
    }
}
