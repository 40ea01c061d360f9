//! Webhooks: a booking and an emergency made by phone reach a receiver on loopback as signed
//! JSON, retried through the outbox when the receiver is down.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use frontdesk::outbox::webhooks::signature;
use frontdesk::outbox::{OutboxWorker, Senders, WebhookSender, Webhooks, WorkerOptions};
use frontdesk::storage::MessageState;
use frontdesk_engine::business::{Webhook, WebhookEvent};
use serde_json::Value;
use tokio::sync::{Notify, watch};

use crate::support::replay::TestServer;
use crate::twilio_gather::{engine, script};

const SECRET: &str = "whsec_integration";

/// One POST the receiver took.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

#[derive(Default)]
struct Receiver {
    taken: Mutex<Vec<Received>>,
    /// Requests still to answer with 503.
    failures: Mutex<u32>,
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    {
        let mut failures = receiver.failures.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    receiver
        .taken
        .lock()
        .unwrap()
        .push(Received { headers, body });
    StatusCode::NO_CONTENT
}

/// A receiver on loopback; its URL.
async fn start_receiver(receiver: Arc<Receiver>) -> String {
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(receiver);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Checks a delivery's signature as a receiver would; its payload.
fn verified(received: &Received) -> Value {
    let header = received.headers["frontdesk-signature"].to_str().unwrap();
    let (t, v1) = header.split_once(",v1=").unwrap();
    let t: i64 = t.strip_prefix("t=").unwrap().parse().unwrap();
    assert_eq!(v1, signature(SECRET, t, &received.body), "{header}");
    assert_ne!(v1, signature("another secret", t, &received.body));
    let age = jiff::Timestamp::now().as_second() - t;
    assert!((0..300).contains(&age), "signed {age} s ago");
    serde_json::from_str(&received.body).unwrap()
}

async fn takes(receiver: &Receiver, count: usize) -> Vec<Received> {
    for _ in 0..400 {
        let taken = receiver.taken.lock().unwrap().clone();
        if taken.len() >= count {
            return taken;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the receiver took {:?}", receiver.taken.lock().unwrap());
}

/// A gather server whose calls queue webhooks to `targets`, with a worker posting them.
async fn start(
    stem: &str,
    targets: Vec<Webhook>,
) -> (TestServer, watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let script = script(stem);
    let queued = Arc::new(Notify::new());
    let hooks_queued = queued.clone();
    let server = TestServer::start_fitted(engine(), &script, move |driver, storage| {
        driver.with_webhooks(Webhooks::new(targets, storage.clone(), hooks_queued))
    })
    .await
    .unwrap();
    let senders = Senders {
        webhooks: Some(WebhookSender::new(SECRET.into()).unwrap()),
        ..Senders::default()
    };
    let options = WorkerOptions {
        poll: Duration::from_millis(50),
        ..WorkerOptions::default()
    };
    let worker = OutboxWorker::new(server.storage.clone(), senders, options, queued);
    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(worker.run(stopped));
    let report = server.call(&script, None).await;
    server.stored(&report.call_sid).await.unwrap();
    (server, stop, worker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_posts_signed_webhooks_and_retries_a_receiver_that_is_down() {
    let receiver = Arc::new(Receiver::default());
    *receiver.failures.lock().unwrap() = 1;
    let url = start_receiver(receiver.clone()).await;
    let targets = vec![Webhook {
        url: url.clone(),
        events: vec![WebhookEvent::Booked, WebhookEvent::CallEnded],
    }];
    let (server, stop, worker) = start("booking_all_in_one", targets).await;
    // The first POST met a 503; the retry (2 s later) and the call-ended one got through.
    let taken = takes(&receiver, 2).await;
    let mut events: Vec<Value> = taken.iter().map(verified).collect();
    events.sort_by_key(|e| e["event"].as_str().unwrap().to_string());
    let (booked, ended) = (&events[0], &events[1]);
    assert_eq!(booked["event"], "booked");
    let appointment = &booked["data"]["appointment"];
    assert_eq!(appointment["location_name"], "Fort Worth");
    assert_eq!(appointment["time_zone"], "America/Chicago");
    assert_eq!(ended["event"], "call_ended");
    assert_eq!(ended["data"]["outcome"], "booked");
    assert!(
        ended["data"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("New booking: ")
    );
    for (event, received) in events.iter().zip(&taken) {
        let header = received.headers["frontdesk-event"].to_str().unwrap();
        assert!(header == "booked" || header == "call_ended", "{header}");
        assert!(event["id"].as_str().unwrap().contains(':'));
    }
    let outbox = server.storage.messages(None).await.unwrap();
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    assert!(outbox.iter().all(|m| m.state == MessageState::Sent));
    assert_eq!(outbox.iter().map(|m| m.attempts).max(), Some(2));
    let _ = stop.send(true);
    worker.await.unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_posts_only_to_the_systems_that_want_it() {
    let receiver = Arc::new(Receiver::default());
    let url = start_receiver(receiver.clone()).await;
    let bookings_only = Arc::new(Receiver::default());
    let bookings_url = start_receiver(bookings_only.clone()).await;
    let targets = vec![
        Webhook {
            url,
            events: vec![WebhookEvent::Emergency],
        },
        Webhook {
            url: bookings_url,
            events: vec![WebhookEvent::Booked],
        },
    ];
    let (server, stop, worker) = start("emergency_gas", targets).await;
    let taken = takes(&receiver, 1).await;
    let alert = verified(&taken[0]);
    assert_eq!(alert["event"], "emergency");
    assert_eq!(alert["data"]["hazard"], "gas");
    assert!(
        alert["data"]["said"]
            .as_str()
            .unwrap()
            .contains("smell gas")
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(bookings_only.taken.lock().unwrap().is_empty());
    assert_eq!(receiver.taken.lock().unwrap().len(), 1);
    let _ = stop.send(true);
    worker.await.unwrap();
    server.shutdown().await;
}
