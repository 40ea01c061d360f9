//! A sick dependency must not hold a caller past Twilio's webhook timeout (15 s): a SQLite file
//! locked by another process and a Redis that stops answering each give an answer within the
//! turn's deadlines, by the degrade path (an apology and a person), and the call record says
//! what happened.

use std::sync::Arc;
use std::time::Duration;

use crate::support::replay::{ReplayPace, TestServer};
use frontdesk::call_event::Event;
use frontdesk::server::Mode;
use frontdesk::server::sessions::{RedisSessions, SessionStore};
use frontdesk_testkit::phone::new_call_sid;
use sqlx::Connection;

use crate::support::{Relay, RelayMode};
use crate::twilio_gather::{engine, post_signed, script, webhook_fields};

/// Twilio hangs up on a webhook that takes longer than this; the deadlines are far inside it.
const TWILIO_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// Posts a webhook and returns its body; it must come back before Twilio would give up.
pub async fn answer(server: &TestServer, path: &str, params: Vec<(String, String)>) -> String {
    let url = format!("{}{path}", server.line.server);
    let response = tokio::time::timeout(TWILIO_WEBHOOK_TIMEOUT, post_signed(&url, &params))
        .await
        .unwrap_or_else(|_| panic!("{path} kept the caller waiting past Twilio's timeout"));
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

/// The degrade path: an apology, then a `<Dial>` to the business's person.
pub fn assert_handed_to_a_person(server: &TestServer, twiml: &str) {
    let human = &server.engine.business().phones.human;
    assert!(twiml.contains("sorry"), "{twiml}");
    assert!(
        twiml.contains("<Dial") && twiml.contains(human.as_str()),
        "{twiml}"
    );
    assert!(!twiml.contains("<Gather"), "{twiml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_fails_the_booking_in_time_and_a_person_takes_the_call() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    let sid = new_call_sid();
    answer(&server, "/twilio/voice", webhook_fields(&sid, &[])).await;
    let said = |text: &str| webhook_fields(&sid, &[("SpeechResult", text), ("Confidence", "0.9")]);
    answer(
        &server,
        "/twilio/gather",
        said("can someone fix my ac in fort worth tomorrow at 2"),
    )
    .await;
    let confirm = answer(&server, "/twilio/gather", said("this is linda park")).await;
    assert!(confirm.contains("<Gather"), "{confirm}");

    // Another process takes SQLite's write lock and keeps it.
    let url = format!("sqlite://{}", server.database_path().display());
    let mut locker = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .await
        .unwrap();

    let booking = answer(&server, "/twilio/gather", said("yes please")).await;
    assert_handed_to_a_person(&server, &booking);

    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    locker.close().await.unwrap();
    server.settle().await;
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    let timeout = record
        .events
        .iter()
        .find_map(|e| match e.event() {
            Event::DependencyTimeout {
                dependency, tool, ..
            } => Some((dependency, tool)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no dependency_timeout event: {:?}", record.events));
    assert_eq!(timeout, ("database".into(), "book_appointment".into()));
    assert_eq!(record.outcome.as_deref(), Some("transferred"));
    // The caller was told the booking did not happen, and it did not.
    let booked = server.storage.appointments_for_call(&sid).await.unwrap();
    assert!(booked.is_empty(), "{booked:?}");

    // Once the lock is gone, the next caller books as usual.
    let report = server.call(&script, None).await;
    let stored = server.stored(&report.call_sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{report:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_stops_answering_hands_the_caller_to_a_person_in_time() {
    let relay = Relay::start("127.0.0.1:6379").await;
    let prefix = format!("frontdesk-test:{}:", new_call_sid());
    let redis = RedisSessions::connect(&format!("redis://{}", relay.addr))
        .await
        .expect("Redis is required at 127.0.0.1:6379 (scripts/services.sh starts it)")
        .with_prefix(&prefix);
    let redis: Arc<dyn SessionStore> = Arc::new(redis);
    let script = script("booking_all_in_one");
    let server = TestServer::start_with(
        engine(),
        &script,
        Mode::Gather,
        &ReplayPace::default(),
        redis,
        None,
    )
    .await
    .unwrap();

    // A call in progress, its session in Redis.
    let sid = new_call_sid();
    let greeting = answer(&server, "/twilio/voice", webhook_fields(&sid, &[])).await;
    assert!(greeting.contains("<Gather"), "{greeting}");

    relay.set(RelayMode::Dark);
    let turn = webhook_fields(
        &sid,
        &[
            (
                "SpeechResult",
                "can someone fix my ac in fort worth tomorrow at 2",
            ),
            ("Confidence", "0.9"),
        ],
    );
    let lost = answer(&server, "/twilio/gather", turn).await;
    assert_handed_to_a_person(&server, &lost);

    // A new call cannot keep its conversation anywhere: a person takes it from the start.
    let new_sid = new_call_sid();
    let new_call = answer(&server, "/twilio/voice", webhook_fields(&new_sid, &[])).await;
    assert_handed_to_a_person(&server, &new_call);

    server.settle().await;
    for call in [&sid, &new_sid] {
        let record = server.storage.get_call(call).await.unwrap().unwrap();
        let failed = record
            .events
            .iter()
            .find_map(|e| match e.event() {
                Event::DependencyFailed { dependency, .. } => Some(dependency),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no dependency_failed event: {:?}", record.events));
        assert_eq!(failed, "sessions");
        assert_eq!(record.outcome.as_deref(), Some("transferred"));
    }
    server.shutdown().await;
}
