//! Test fixtures: the configured business, a fresh SQLite file, a fresh PostgreSQL schema.

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
