//! A PostgreSQL outage mid-call: call-record writes are held and retried, and appear once the
//! database is back; `/health/detailed`'s `records_pending` counts them meanwhile. What cannot
//! be held (past the held limit, or at a shutdown during the outage) goes to the spill file and
//! is written from there, after a restart if need be.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use frontdesk::call_event::Event;
use frontdesk::recorder::spill::{CORRUPT, FILE};
use frontdesk::recorder::{Recorder, RecorderOptions};
use frontdesk::storage::{self, CallWrite, Speaker, Storage};
use jiff::civil::{DateTime, date};

use crate::support::{PG_URL, Relay, RelayMode, with_postgres, with_sqlite};

const SID: &str = "CA-outage-1";

fn at() -> DateTime {
    date(2026, 6, 1).at(9, 12, 0, 0)
}

/// The storage URL `url` names, reached through `relay` instead.
fn through(relay: &Relay, url: &str) -> String {
    let host = PG_URL
        .trim_start_matches("postgres://postgres@")
        .split('/')
        .next()
        .unwrap();
    url.replace(host, &relay.addr.to_string())
}

/// Waits (up to a minute) until the recorder has nothing left to write, and has finished the
/// round that wrote the last of it (which removes a drained spill file).
async fn drained(recorder: &Recorder) {
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        while recorder.pending() > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "{} writes still pending ({} spilled)",
        recorder.pending(),
        recorder.spilled()
    );
    recorder.flush().await;
}

/// One call's record while the database is away: 20 caller turns, an event, the outcome.
async fn record_a_call(recorder: &Recorder) {
    for seq in 1..=20 {
        recorder
            .turn(SID, seq, Speaker::Caller, &format!("line {seq}"), None)
            .await;
    }
    record_a_call_end(recorder).await;
}

/// The whole call is in the database, turns in order.
async fn assert_recorded(storage: &dyn Storage) {
    let record = storage.get_call(SID).await.unwrap().unwrap();
    assert_eq!(record.turns.len(), 20, "{record:?}");
    let seqs: Vec<u32> = record.turns.iter().map(|t| t.seq).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    assert_eq!(record.turns[19].text, "line 20");
    assert!(record.events.iter().any(|e| e.kind == "transfer_failed"));
    assert_eq!(record.outcome.as_deref(), Some("transferred"));
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn call_records_written_during_a_database_outage_appear_after_it() {
    with_postgres(records_survive_an_outage).await;
}

async fn records_survive_an_outage(direct: Arc<dyn Storage>, url: String) {
    let relay = Relay::start("127.0.0.1:5432").await;
    let server_side = storage::open(&through(&relay, &url)).await.unwrap();
    let recorder = Recorder::start(server_side.clone());
    recorder
        .start_call(SID, "+12145550123", "+12145550100", at())
        .await;
    recorder.flush().await;
    assert_eq!(recorder.pending(), 0);

    // The database goes away mid-call; the call goes on and is recorded meanwhile.
    relay.set(RelayMode::Cut);
    record_a_call(&recorder).await;
    recorder.flush().await;
    assert_eq!(recorder.pending(), 22, "every write is held, none is lost");

    relay.set(RelayMode::Forward);
    drained(&recorder).await;
    assert_recorded(direct.as_ref()).await;
    server_side.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn call_records_held_at_a_shutdown_during_an_outage_are_written_after_a_restart() {
    with_postgres(records_survive_a_restart).await;
}

async fn records_survive_a_restart(direct: Arc<dyn Storage>, url: String) {
    let spill_dir = tempfile::tempdir().unwrap();
    let options = RecorderOptions {
        spill_dir: Some(spill_dir.path().to_path_buf()),
        ..RecorderOptions::default()
    };
    let relay = Relay::start("127.0.0.1:5432").await;
    let first_run = storage::open(&through(&relay, &url)).await.unwrap();
    let recorder = Recorder::open(first_run.clone(), options.clone())
        .await
        .unwrap();
    recorder
        .start_call(SID, "+12145550123", "+12145550100", at())
        .await;
    recorder.flush().await;

    // The database goes away, and the server stops before it is back.
    relay.set(RelayMode::Cut);
    record_a_call(&recorder).await;
    recorder.flush().await;
    assert_eq!(recorder.spilled(), 0, "held in memory while running");
    recorder.close().await;
    first_run.close().await;
    let spilled = spill_dir.path().join(FILE);
    assert_eq!(lines(&spilled), 22, "everything held is in the spill file");

    // The database is back; the next run writes the spilled writes first.
    relay.set(RelayMode::Forward);
    let second_run = storage::open(&through(&relay, &url)).await.unwrap();
    let recorder = Recorder::open(second_run.clone(), options).await.unwrap();
    drained(&recorder).await;
    assert_recorded(direct.as_ref()).await;
    assert!(!spilled.exists(), "the spill file is removed once written");
    recorder.close().await;
    second_run.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn call_records_beyond_the_held_limit_are_spilled_and_written_in_order() {
    with_postgres(records_beyond_the_limit_are_spilled).await;
}

async fn records_beyond_the_limit_are_spilled(direct: Arc<dyn Storage>, url: String) {
    let spill_dir = tempfile::tempdir().unwrap();
    let options = RecorderOptions {
        spill_dir: Some(spill_dir.path().to_path_buf()),
        held_limit: 5,
    };
    let relay = Relay::start("127.0.0.1:5432").await;
    let server_side = storage::open(&through(&relay, &url)).await.unwrap();
    let recorder = Recorder::open(server_side.clone(), options).await.unwrap();

    // The whole call happens during the outage: its start is among the writes held.
    relay.set(RelayMode::Cut);
    recorder
        .start_call(SID, "+12145550123", "+12145550100", at())
        .await;
    record_a_call(&recorder).await;
    recorder.flush().await;
    assert_eq!(recorder.pending(), 23);
    assert_eq!(recorder.spilled(), 18, "5 held in memory, the rest spilled");

    relay.set(RelayMode::Forward);
    drained(&recorder).await;
    assert_eq!(recorder.spilled(), 0);
    assert_recorded(direct.as_ref()).await;
    assert!(!spill_dir.path().join(FILE).exists());
    recorder.close().await;
    server_side.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_corrupt_spill_line_is_kept_aside_and_the_rest_are_written() {
    with_sqlite(corrupt_line_kept_aside).await;
}

async fn corrupt_line_kept_aside(storage: Arc<dyn Storage>, _url: String) {
    let spill_dir = tempfile::tempdir().unwrap();
    let start = CallWrite::StartCall {
        call_id: SID.into(),
        caller: "+12145550123".into(),
        called: "+12145550100".into(),
        at: at(),
    };
    let turn = |seq: u32| CallWrite::Turn {
        call_id: SID.into(),
        seq,
        speaker: Speaker::Caller,
        text: format!("line {seq}"),
        state: None,
    };
    let mut text = String::new();
    for (i, write) in std::iter::once(start).chain((1..=20).map(turn)).enumerate() {
        text.push_str(&serde_json::to_string(&write).unwrap());
        text.push('\n');
        if i == 3 {
            text.push_str("{\"write\":\"turn\",\"call_id\":\"CA-outage-1\",\"seq\":\"x\"}\n");
        }
    }
    std::fs::write(spill_dir.path().join(FILE), text).unwrap();

    let options = RecorderOptions {
        spill_dir: Some(spill_dir.path().to_path_buf()),
        ..RecorderOptions::default()
    };
    let recorder = Recorder::open(storage.clone(), options).await.unwrap();
    assert_eq!(
        recorder.pending(),
        22,
        "every spilled line is pending at start"
    );
    record_a_call_end(&recorder).await;
    drained(&recorder).await;
    assert_recorded(storage.as_ref()).await;
    let aside = std::fs::read_to_string(spill_dir.path().join(CORRUPT)).unwrap();
    assert!(aside.contains("\"seq\":\"x\""), "{aside}");
    assert!(!spill_dir.path().join(FILE).exists());
    recorder.close().await;
}

/// The end of the call recorded in [`record_a_call`], after its turns.
async fn record_a_call_end(recorder: &Recorder) {
    let unanswered = Event::TransferFailed {
        dial_status: "no-answer".into(),
    };
    recorder.event(SID, &unanswered).await;
    recorder
        .finish_call(SID, "transferred", Some("+12145550199"), at())
        .await;
}
