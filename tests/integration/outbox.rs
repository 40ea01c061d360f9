//! The outbox in both databases: queued once, leased to one worker at a time, retried after an
//! outage, opted out; and a text whose worker died after Twilio took it is not sent twice.

use std::collections::BTreeSet;
use std::sync::Arc;

use frontdesk::outbox::OutboxWorker;
use frontdesk::storage::{Attempt, MessageState, NewMessage, Storage};
use frontdesk_testkit::fake_twilio_rest::FakeTwilioRest;
use tokio::sync::Notify;

use crate::both_backends;
use crate::support::replay::{ACCOUNT_SID, AUTH_TOKEN};
use crate::texts::{sms_senders, twilio, worker_options};

both_backends!(
    the_outbox_queues_once_leases_and_retries,
    two_workers_send_each_message_once,
);

const NOW: i64 = 1_800_000_000_000;

fn message(key: &str) -> NewMessage {
    NewMessage {
        kind: "sms".into(),
        recipient: "+12145550123".into(),
        body: format!("text {key}"),
        call_id: Some("CA1".into()),
        dedupe_key: key.into(),
        not_before_ms: NOW,
    }
}

async fn the_outbox_queues_once_leases_and_retries(store: Arc<dyn Storage>, _url: String) {
    let id = store.enqueue_message(&message("a")).await.unwrap();
    assert!(id.is_some());
    assert_eq!(store.enqueue_message(&message("a")).await.unwrap(), None);
    // Not due yet.
    assert!(
        store
            .claim_message(NOW - 1, NOW + 60_000, &["sms"])
            .await
            .unwrap()
            .is_none()
    );
    // A worker that only posts webhooks leaves texts alone.
    assert!(
        store
            .claim_message(NOW, NOW + 60_000, &["webhook", "call"])
            .await
            .unwrap()
            .is_none()
    );
    let claimed = store
        .claim_message(NOW, NOW + 60_000, &["sms"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((Some(claimed.id), claimed.attempts), (id, 1));
    assert_eq!(claimed.state, MessageState::Sending);
    // Leased: nobody else takes it until the lease runs out (a worker that died).
    assert!(
        store
            .claim_message(NOW + 1_000, NOW + 61_000, &["sms"])
            .await
            .unwrap()
            .is_none()
    );
    let again = store
        .claim_message(NOW + 60_000, NOW + 120_000, &["sms"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id, again.attempts), (claimed.id, 2));
    let retry = Attempt::Retry {
        error: "503".into(),
        at_ms: NOW + 90_000,
    };
    store
        .finish_message(again.id, &retry, NOW + 60_500)
        .await
        .unwrap();
    assert!(
        store
            .claim_message(NOW + 89_999, NOW + 150_000, &["sms"])
            .await
            .unwrap()
            .is_none()
    );
    let third = store
        .claim_message(NOW + 90_000, NOW + 150_000, &["sms"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.attempts, 3);
    let sent = Attempt::Sent {
        provider_id: "SM1".into(),
    };
    store
        .finish_message(third.id, &sent, NOW + 90_100)
        .await
        .unwrap();
    let stored = store.messages(Some("CA1")).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].state, MessageState::Sent);
    assert_eq!(stored[0].provider_id.as_deref(), Some("SM1"));
    assert!(
        store
            .claim_message(NOW + 999_999, NOW + 1_100_000, &["sms"])
            .await
            .unwrap()
            .is_none()
    );

    assert!(!store.is_opted_out("+12145550123").await.unwrap());
    store
        .set_opted_out("+12145550123", true, NOW)
        .await
        .unwrap();
    store
        .set_opted_out("+12145550123", true, NOW + 1)
        .await
        .unwrap();
    assert!(store.is_opted_out("+12145550123").await.unwrap());
    store
        .set_opted_out("+12145550123", false, NOW + 2)
        .await
        .unwrap();
    assert!(!store.is_opted_out("+12145550123").await.unwrap());
}

async fn two_workers_send_each_message_once(store: Arc<dyn Storage>, _url: String) {
    const MESSAGES: usize = 60;
    for i in 0..MESSAGES {
        store
            .enqueue_message(&message(&format!("m{i}")))
            .await
            .unwrap();
    }
    // Two workers (as two server processes would be), each with several claims in flight.
    let mut claimers = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        claimers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(claimed) = store
                .claim_message(NOW, NOW + 60_000, &["sms"])
                .await
                .unwrap()
            {
                let sent = Attempt::Sent {
                    provider_id: format!("SM{}", claimed.id),
                };
                store.finish_message(claimed.id, &sent, NOW).await.unwrap();
                mine.push(claimed.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    let unique: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), MESSAGES, "a message was claimed twice: {all:?}");
    assert_eq!(unique.len(), MESSAGES);
    let stored = store.messages(None).await.unwrap();
    assert!(
        stored
            .iter()
            .all(|m| m.state == MessageState::Sent && m.attempts == 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twilio_outage_leaves_the_text_queued_for_later() {
    let fake = FakeTwilioRest::start(ACCOUNT_SID, AUTH_TOKEN)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let store = frontdesk::storage::open(&url).await.unwrap();
    let mut now_message = message("outage");
    now_message.not_before_ms = 0;
    store.enqueue_message(&now_message).await.unwrap();
    fake.fail_next(1);
    let worker = OutboxWorker::new(
        store.clone(),
        sms_senders(&fake),
        worker_options(),
        Arc::new(Notify::new()),
    );
    assert!(worker.send_next().await.unwrap());
    let stored = store.messages(None).await.unwrap();
    assert_eq!(stored[0].state, MessageState::Pending);
    assert!(
        stored[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("500")
    );
    assert!(fake.messages().is_empty());
    // Not due again for a while: the next look finds nothing to send.
    assert!(!worker.send_next().await.unwrap());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_twilio_took_before_its_worker_died_is_not_sent_again() {
    let fake = FakeTwilioRest::start(ACCOUNT_SID, AUTH_TOKEN)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let store = frontdesk::storage::open(&url).await.unwrap();
    let mut queued = message("dies-mid-send");
    queued.not_before_ms = 0;
    store.enqueue_message(&queued).await.unwrap();
    // A worker claims the text, Twilio takes it, and the worker dies before saying so: its
    // lease runs out with the row still `sending`.
    let now = frontdesk::outbox::now_ms();
    let claimed = store
        .claim_message(now, now, &["sms"])
        .await
        .unwrap()
        .unwrap();
    let sid = twilio(&fake)
        .send_sms("+12145550100", &claimed.recipient, &claimed.body)
        .await
        .unwrap();
    // Another text to the same number, and one with the same words to another number, are
    // not the one taken.
    let other = twilio(&fake);
    other
        .send_sms("+12145550100", &claimed.recipient, "another text")
        .await
        .unwrap();
    other
        .send_sms("+12145550100", "+12145550999", &claimed.body)
        .await
        .unwrap();

    let worker = OutboxWorker::new(
        store.clone(),
        sms_senders(&fake),
        worker_options(),
        Arc::new(Notify::new()),
    );
    assert!(worker.send_next().await.unwrap());
    let stored = store.messages(None).await.unwrap();
    assert_eq!(stored[0].state, MessageState::Sent, "{stored:?}");
    assert_eq!(stored[0].provider_id.as_deref(), Some(sid.as_str()));
    assert_eq!(stored[0].attempts, 2);
    let to_customer: Vec<_> = fake
        .messages()
        .into_iter()
        .filter(|m| m.to == claimed.recipient && m.body == claimed.body)
        .collect();
    assert_eq!(to_customer.len(), 1, "sent twice: {to_customer:?}");

    // A text that never reached Twilio is sent on the takeover.
    let mut lost = message("lost-before-twilio");
    lost.not_before_ms = 0;
    store.enqueue_message(&lost).await.unwrap();
    let now = frontdesk::outbox::now_ms();
    store
        .claim_message(now, now, &["sms"])
        .await
        .unwrap()
        .unwrap();
    assert!(worker.send_next().await.unwrap());
    assert!(fake.messages().iter().any(|m| m.body == lost.body));
    store.close().await;
}
