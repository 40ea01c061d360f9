//! A database that fails under a live call: the real server on loopback, the fake Twilio phone,
//! and the server's own SQLite file broken from outside (a dropped table, a trigger that refuses
//! every write). Each flow must take its own failure path: an apology, then a person.

use crate::support::replay::{ReplayPace, TestServer};
use frontdesk::server::Mode;
use frontdesk_testkit::phone::{PhoneEnding, Speaker};
use sqlx::Connection;

use crate::twilio_gather::{engine, script};

/// What the flows say when a tool fails (`prompts/common/tool_failed.j2`).
const APOLOGY: &str = "ran into a problem on my end";
const HUMAN_LINE: &str = "+12145550100";

/// Runs `sql` on the server's database file through a connection of its own, as another
/// process (or a failing disk) would change it under the server.
async fn break_database(server: &TestServer, sql: &str) {
    let url = format!("sqlite://{}", server.database_path().display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

/// Plays the caller script `stem` against a server whose database `sql` has broken, and checks
/// that the call ended in the flow's failure path with `tool` recorded as failed.
async fn fails_gracefully(stem: &str, sql: &str, tool: &str) {
    let script = script(stem);
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    break_database(&server, sql).await;

    let report = server.call(&script, None).await;
    let agent: Vec<&str> = report
        .transcript
        .iter()
        .filter(|(who, _)| *who == Speaker::Agent)
        .map(|(_, text)| text.as_str())
        .collect();
    assert_eq!(
        report.ending,
        PhoneEnding::Transferred(HUMAN_LINE.into()),
        "{stem}: {agent:#?}"
    );
    let last = agent.last().copied().unwrap_or_default();
    assert!(last.contains(APOLOGY), "{stem}: last line {last:?}");
    // Not the engine's last-resort apology: the flow's own state said it.
    assert!(!agent.iter().any(|l| l.contains("something went wrong")));

    // The call record (its tables are whole) says how the call ended, which tool failed and why.
    server.settle().await;
    let record = server
        .storage
        .get_call(&report.call_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.outcome.as_deref(), Some("transferred"), "{stem}");
    assert_eq!(record.transfer_to.as_deref(), Some(HUMAN_LINE));
    let failed = record.events.iter().find(|e| {
        e.kind == "tool" && e.detail["tool"] == tool && e.detail["result"]["error"] == "storage"
    });
    assert!(failed.is_some(), "{stem}: {:#?}", record.events);
    assert!(
        record
            .events
            .iter()
            .any(|e| e.kind == "tool_failed" && e.detail["error"] == "storage"),
        "{stem}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn availability_check_on_a_dropped_table_apologises_and_transfers() {
    fails_gracefully(
        "booking_basic",
        "DROP TABLE appointments",
        "check_availability",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_refused_by_the_database_apologises_and_transfers() {
    fails_gracefully(
        "booking_basic",
        "CREATE TRIGGER no_writes BEFORE INSERT ON appointments \
         BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
        "book_appointment",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_on_a_dropped_table_apologises_and_transfers() {
    fails_gracefully(
        "cancel_caller_id",
        "DROP TABLE appointments",
        "find_appointment",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_refused_by_the_database_apologises_and_transfers() {
    fails_gracefully(
        "cancel_caller_id",
        "CREATE TRIGGER no_writes BEFORE UPDATE ON appointments \
         BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
        "cancel_appointment",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_refused_by_the_database_apologises_and_transfers() {
    fails_gracefully(
        "reschedule_caller_id",
        "CREATE TRIGGER no_writes BEFORE UPDATE ON appointments \
         BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
        "reschedule_appointment",
    )
    .await;
}
