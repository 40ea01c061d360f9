//! A PostgreSQL outage mid-call: call-record writes are held and retried, and appear once the
//! database is back; `/health/detailed`'s `records_pending` counts them meanwhile.

use std::sync::Arc;
use std::time::Duration;

use frontdesk::recorder::Recorder;
use frontdesk::storage::{self, Speaker, Storage};
use jiff::civil::date;
use serde_json::json;

use crate::support::{PG_URL, Relay, RelayMode, with_postgres};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn call_records_written_during_a_database_outage_appear_after_it() {
    with_postgres(records_survive_an_outage).await;
}

async fn records_survive_an_outage(direct: Arc<dyn Storage>, url: String) {
    let relay = Relay::start("127.0.0.1:5432").await;
    let host = PG_URL
        .trim_start_matches("postgres://postgres@")
        .split('/')
        .next()
        .unwrap();
    let through_relay = url.replace(host, &relay.addr.to_string());
    let server_side = storage::open(&through_relay).await.unwrap();
    let recorder = Recorder::start(server_side.clone());
    let at = date(2026, 6, 1).at(9, 12, 0, 0);
    let sid = "CA-outage-1";
    recorder
        .start_call(sid, "+12145550123", "+12145550100", at)
        .await;
    recorder.flush().await;
    assert_eq!(recorder.pending(), 0);

    // The database goes away mid-call; the call goes on and is recorded meanwhile.
    relay.set(RelayMode::Cut);
    for seq in 1..=20 {
        recorder
            .turn(sid, seq, Speaker::Caller, &format!("line {seq}"), None)
            .await;
    }
    recorder
        .event(
            sid,
            "transfer_failed",
            json!({ "dial_status": "no-answer" }),
        )
        .await;
    recorder
        .finish_call(sid, "transferred", Some("+12145550199"), at)
        .await;
    recorder.flush().await;
    assert_eq!(recorder.pending(), 22, "every write is held, none is lost");

    relay.set(RelayMode::Forward);
    let drained = tokio::time::timeout(Duration::from_secs(60), async {
        while recorder.pending() > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        drained.is_ok(),
        "{} writes still held after the database came back",
        recorder.pending()
    );
    let record = direct.get_call(sid).await.unwrap().unwrap();
    assert_eq!(record.turns.len(), 20, "{record:?}");
    assert_eq!(record.turns[19].text, "line 20");
    assert!(record.events.iter().any(|e| e.kind == "transfer_failed"));
    assert_eq!(record.outcome.as_deref(), Some("transferred"));
    server_side.close().await;
}
