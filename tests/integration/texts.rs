//! Texts around the call: a booking, move, cancellation or emergency made over the phone texting
//! through the fake Twilio REST API, STOP, the owner's summary, callbacks and reminders.

use std::sync::Arc;
use std::time::Duration;

use frontdesk::call_event::Event;
use frontdesk::outbox::{
    Allowlist, Change, OutboxWorker, Senders, SmsSender, Texts, WorkerOptions,
};
use frontdesk::project::{ProjectPaths, read_sources};
use frontdesk::storage::{Attempt, MessageState};
use frontdesk::twilio::rest::{TwilioRest, TwilioRestConfig};
use frontdesk_engine::Engine;
use frontdesk_engine::script::Script;
use frontdesk_testkit::fake_twilio_rest::FakeTwilioRest;
use frontdesk_testkit::phone::new_call_sid;
use tokio::sync::{Notify, watch};

use crate::support::replay::{ACCOUNT_SID, AUTH_TOKEN, TestServer};
use crate::twilio_gather::{engine, post_signed, script, webhook_fields};

pub(crate) fn worker_options() -> WorkerOptions {
    WorkerOptions {
        poll: Duration::from_millis(50),
        ..WorkerOptions::default()
    }
}

/// Texts from the business's number through `fake`, to anyone.
pub(crate) fn sms_senders(fake: &FakeTwilioRest) -> Senders {
    Senders {
        sms: Some(SmsSender {
            twilio: twilio(fake),
            from: "+12145550100".into(),
            allow: Allowlist::default(),
        }),
        ..Senders::default()
    }
}

pub(crate) fn twilio(fake: &FakeTwilioRest) -> Arc<TwilioRest> {
    let config = TwilioRestConfig {
        base_url: fake.base_url(),
        account_sid: ACCOUNT_SID.into(),
        auth_token: AUTH_TOKEN.into(),
    };
    Arc::new(TwilioRest::new(config).unwrap())
}

/// Waits until the fake has taken `count` messages.
pub(crate) async fn messages_reach(fake: &FakeTwilioRest, count: usize) {
    for _ in 0..200 {
        if fake.messages().len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the fake took {:?}", fake.messages());
}

/// The default business, changed by `change`.
pub(crate) fn engine_with(
    change: impl FnOnce(&mut frontdesk_engine::business::Business),
) -> Arc<Engine> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let paths = ProjectPaths::at_root(root);
    let mut sources = read_sources(&paths, frontdesk::tools::catalog()).unwrap();
    change(&mut sources.business);
    Arc::new(Engine::load(sources).unwrap())
}

/// The default business with the owner's mobile set: a summary of every call is texted there.
fn engine_with_owner(owner: &str) -> Arc<Engine> {
    engine_with(|business| business.phones.owner = Some(owner.to_string()))
}

/// A gather server that texts through a fake Twilio API, with its outbox worker running.
pub(crate) struct TextingServer {
    pub server: TestServer,
    pub fake: FakeTwilioRest,
    pub texts: Texts,
    stop: watch::Sender<bool>,
    worker: tokio::task::JoinHandle<()>,
}

impl TextingServer {
    async fn start(script: &Script) -> TextingServer {
        TextingServer::start_with(engine(), script).await
    }

    pub(crate) async fn start_with(engine: Arc<Engine>, script: &Script) -> TextingServer {
        let fake = FakeTwilioRest::start(ACCOUNT_SID, AUTH_TOKEN)
            .await
            .unwrap();
        let queued = Arc::new(Notify::new());
        let texts = std::sync::Mutex::new(None);
        let server = TestServer::start_fitted(engine.clone(), script, |driver, storage| {
            let made = Texts::new(engine.clone(), storage.clone(), queued.clone());
            *texts.lock().unwrap() = Some(made.clone());
            driver.with_texts(made)
        })
        .await
        .unwrap();
        let texts = texts.lock().unwrap().take().unwrap();
        let worker = OutboxWorker::new(
            server.storage.clone(),
            sms_senders(&fake),
            worker_options(),
            queued,
        );
        let (stop, stopped) = watch::channel(false);
        let worker = tokio::spawn(worker.run(stopped));
        TextingServer {
            server,
            fake,
            texts,
            stop,
            worker,
        }
    }

    pub(crate) async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.worker.await.unwrap();
        self.server.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_by_phone_texts_its_confirmation_and_stop_ends_the_texts() {
    let script = script("booking_all_in_one");
    let texting = TextingServer::start(&script).await;
    let (server, fake) = (&texting.server, &texting.fake);
    let report = server.call(&script, None).await;
    let stored = server.stored(&report.call_sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{report:?}");
    messages_reach(fake, 1).await;
    let sent = &fake.messages()[0];
    let caller = script.caller_id.clone().unwrap();
    assert_eq!(
        (sent.to.as_str(), sent.from.as_str()),
        (caller.as_str(), "+12145550100")
    );
    for part in ["KC Comfort Air", "booked", "Fort Worth", "Reply STOP"] {
        assert!(sent.body.contains(part), "{part:?} in {:?}", sent.body);
    }
    let queued = server
        .storage
        .messages(Some(&report.call_sid))
        .await
        .unwrap();
    assert_eq!(queued[0].provider_id.as_deref(), Some(sent.sid.as_str()));
    let summary = summary_of(server, &report.call_sid).await;
    assert!(summary.starts_with("New booking: "), "{summary}");
    assert!(
        summary.contains("Fort Worth") && summary.contains(&caller),
        "{summary}"
    );

    // The customer texts STOP: the next text to that number is not sent.
    let inbound = format!("{}/twilio/messages", server.line.server);
    let mut fields = webhook_fields("", &[("Body", "Stop")]);
    fields.retain(|(k, _)| k != "CallSid" && k != "From");
    fields.push(("From".into(), caller.clone()));
    fields.push((
        "MessageSid".into(),
        "SM0123456789abcdef0123456789abcdef".into(),
    ));
    assert_eq!(post_signed(&inbound, &fields).await.status(), 200);
    let booked = server
        .storage
        .appointments_for_call(&report.call_sid)
        .await
        .unwrap();
    texting
        .texts
        .confirm(Change::Rescheduled, &booked[0], "CA-later")
        .await;
    for _ in 0..200 {
        let later = server.storage.messages(Some("CA-later")).await.unwrap();
        if later
            .first()
            .is_some_and(|m| m.state == MessageState::Skipped)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let later = server.storage.messages(Some("CA-later")).await.unwrap();
    assert_eq!(later[0].state, MessageState::Skipped, "{later:?}");
    assert_eq!(fake.messages().len(), 1);
    texting.shutdown().await;
}

/// In an example business with an urgency level that alerts the on-call numbers, a booked call
/// at that level (one of its caller scripts) texts each of them as it ends, and the caller gets
/// the usual confirmation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_at_an_alerting_urgency_level_texts_the_on_call_numbers() {
    let (engine, script) = crate::twilio_gather::Project::examples()
        .into_iter()
        .find_map(|example| {
            let engine = example.engine();
            let business = engine.business().clone();
            let alerting: Vec<String> = business
                .urgency
                .iter()
                .filter(|u| u.alert_on_call)
                .map(|u| u.level.clone())
                .collect();
            crate::twilio_gather::project_scripts(&example)
                .into_iter()
                .map(|(_, script)| script)
                .find(|s| {
                    s.expect.outcome.as_deref() == Some("booked")
                        && s.expect
                            .urgency
                            .as_ref()
                            .is_some_and(|u| alerting.contains(u))
                })
                .map(|script| (engine, script))
        })
        .expect("an example with an alerting urgency level and a booked script at it");
    let level = script.expect.urgency.clone().unwrap();
    let on_call = engine.business().phones.on_call.clone();
    assert!(!on_call.is_empty());
    let texting = TextingServer::start_with(engine, &script).await;
    let (server, fake) = (&texting.server, &texting.fake);
    let report = server.call(&script, None).await;
    let stored = server.stored(&report.call_sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{report:?}");
    // The caller's confirmation and one alert per on-call number.
    messages_reach(fake, 1 + on_call.len()).await;
    let sent = fake.messages();
    let caller = script.caller_id.clone().unwrap();
    for number in &on_call {
        let alert = sent
            .iter()
            .find(|m| &m.to == number)
            .unwrap_or_else(|| panic!("no alert to {number}: {sent:?}"));
        for part in [level.to_uppercase().as_str(), caller.as_str(), "Booked for"] {
            assert!(alert.body.contains(part), "{part:?} in {:?}", alert.body);
        }
    }
    assert!(sent.iter().any(|m| m.to == caller), "{sent:?}");
    alert_is_recorded(server, &report.call_sid, &on_call).await;
    texting.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_texts_the_on_call_numbers_at_once() {
    let script = script("emergency_gas");
    let texting = TextingServer::start(&script).await;
    let (server, fake) = (&texting.server, &texting.fake);
    let report = server.call(&script, None).await;
    let stored = server.stored(&report.call_sid).await.unwrap();
    assert_eq!(stored.outcome, "emergency", "{report:?}");
    messages_reach(fake, 1).await;
    let alert = &fake.messages()[0];
    let on_call = &server.engine.business().phones.on_call;
    assert_eq!(std::slice::from_ref(&alert.to), on_call.as_slice());
    let caller = script.caller_id.clone().unwrap();
    for part in ["EMERGENCY (gas)", caller.as_str(), "smell gas"] {
        assert!(alert.body.contains(part), "{part:?} in {:?}", alert.body);
    }
    alert_is_recorded(server, &report.call_sid, on_call).await;
    let summary = summary_of(server, &report.call_sid).await;
    assert!(summary.starts_with("Emergency (gas): "), "{summary}");
    texting.shutdown().await;
}

/// The call's record holds the alert sent to `on_call`.
async fn alert_is_recorded(server: &TestServer, call_id: &str, on_call: &[String]) {
    let record = server.storage.get_call(call_id).await.unwrap().unwrap();
    let alert = Event::EmergencyAlert {
        to: on_call.to_vec(),
    };
    assert!(
        record.events.iter().any(|e| e.event() == alert),
        "{:?}",
        record.events
    );
}

/// The one-line summary stored with a call.
async fn summary_of(server: &TestServer, call_id: &str) -> String {
    let record = server.storage.get_call(call_id).await.unwrap().unwrap();
    record
        .events
        .iter()
        .find_map(|e| match e.event() {
            Event::Summary { text } => Some(text),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no summary in {:?}", record.events))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_gets_each_calls_summary_by_text() {
    let owner = "+12145550188";
    let script = script("booking_all_in_one");
    let texting = TextingServer::start_with(engine_with_owner(owner), &script).await;
    let (server, fake) = (&texting.server, &texting.fake);
    let report = server.call(&script, None).await;
    server.settle().await;
    // The customer's confirmation and the owner's summary.
    messages_reach(fake, 2).await;
    let to_owner: Vec<_> = fake
        .messages()
        .into_iter()
        .filter(|m| m.to == owner)
        .collect();
    assert_eq!(to_owner.len(), 1, "{to_owner:?}");
    let summary = summary_of(server, &report.call_sid).await;
    assert_eq!(to_owner[0].body, format!("KC Comfort Air: {summary}"));
    texting.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_transfer_asks_a_person_to_call_back() {
    let script = script("booking_all_in_one");
    let texting = TextingServer::start(&script).await;
    let (server, fake) = (&texting.server, &texting.fake);
    let sid = new_call_sid();
    let caller = script.caller_id.clone().unwrap();
    let voice = format!("{}/twilio/voice", server.line.server);
    let fields = |extra: &[(&str, &str)]| {
        let mut fields = webhook_fields(&sid, extra);
        fields.retain(|(k, _)| k != "From");
        fields.push(("From".into(), caller.clone()));
        fields
    };
    assert_eq!(post_signed(&voice, &fields(&[])).await.status(), 200);
    let gather = format!("{}/twilio/gather", server.line.server);
    let said = [
        ("SpeechResult", "can i talk to a real person"),
        ("Confidence", "0.9"),
    ];
    let transfer = post_signed(&gather, &fields(&said))
        .await
        .text()
        .await
        .unwrap();
    assert!(transfer.contains("<Dial"), "{transfer}");
    let done = format!("{}/twilio/dial-done", server.line.server);
    let unanswered = post_signed(&done, &fields(&[("DialCallStatus", "no-answer")])).await;
    assert_eq!(unanswered.status(), 200);
    messages_reach(fake, 1).await;
    let text = &fake.messages()[0];
    let human = server.engine.business().phones.human.clone();
    assert_eq!(text.to, human);
    for part in ["call back", caller.as_str(), "no-answer", "real person"] {
        assert!(text.body.contains(part), "{part:?} in {:?}", text.body);
    }
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    assert!(
        record
            .events
            .iter()
            .any(|e| e.event() == Event::CallbackQueued { to: human.clone() }),
        "{:?}",
        record.events
    );
    texting.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tomorrows_visits_are_reminded_once_outside_quiet_hours() {
    use frontdesk::outbox::reminders;
    use frontdesk::storage::NewAppointment;
    use jiff::civil::date;

    let engine = engine();
    let business = engine.business().clone();
    let zone = jiff::tz::TimeZone::get(&business.time_zone).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let store = frontdesk::storage::open(&url).await.unwrap();
    store.sync_business(&business).await.unwrap();
    let book = |call: &str, start: jiff::civil::DateTime, phone: &str| NewAppointment {
        call_id: call.into(),
        location: "DAL".into(),
        start,
        name: "Ana Ruiz".into(),
        phone: phone.into(),
        issue: "no heat".into(),
        minutes: None,
    };
    // Monday 2030-01-07; visits on Tuesday and on Wednesday.
    let tuesday = store
        .book(&book(
            "CA1",
            date(2030, 1, 8).at(10, 0, 0, 0),
            "+12145550123",
        ))
        .await
        .unwrap();
    store
        .book(&book(
            "CA2",
            date(2030, 1, 9).at(10, 0, 0, 0),
            "+12145550124",
        ))
        .await
        .unwrap();
    let texts = Texts::new(engine.clone(), store.clone(), Arc::new(Notify::new()));
    let plan = |now: jiff::civil::DateTime| {
        let (texts, store, business, zone) = (&texts, &store, &business, &zone);
        async move {
            let now_ms = zone.to_timestamp(now).unwrap().as_millisecond();
            reminders::plan(texts, store.as_ref(), business, zone, now, now_ms)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        plan(date(2030, 1, 7).at(16, 59, 0, 0)).await,
        0,
        "before 17:00"
    );
    assert_eq!(plan(date(2030, 1, 7).at(17, 5, 0, 0)).await, 1);
    assert_eq!(plan(date(2030, 1, 7).at(17, 6, 0, 0)).await, 0, "once only");
    let queued = store.messages(None).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].recipient, tuesday.phone);
    assert!(
        queued[0].body.contains("reminder") && queued[0].body.contains("Tuesday, January 8th"),
        "{}",
        queued[0].body
    );
    // Sent, so the next claim can only find the next reminder.
    let sent = Attempt::Sent {
        provider_id: "SM1".into(),
    };
    store.finish_message(queued[0].id, &sent, 0).await.unwrap();
    // Planned late in the evening (a server started then): the text waits for the morning.
    assert_eq!(plan(date(2030, 1, 8).at(22, 30, 0, 0)).await, 1);
    let morning = zone.to_timestamp(date(2030, 1, 9).at(8, 0, 0, 0)).unwrap();
    let early = morning.as_millisecond() - 1;
    assert!(
        store
            .claim_message(early, early + 60_000, &["sms"])
            .await
            .unwrap()
            .is_none(),
        "not before 08:00"
    );
    let claimed = store
        .claim_message(
            morning.as_millisecond(),
            morning.as_millisecond() + 60_000,
            &["sms"],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.recipient, "+12145550124");
    store.close().await;
}

/// Plays `stem` through a texting server; the one text it sent.
async fn the_text_of(
    stem: &str,
    outcome: &str,
) -> (frontdesk_testkit::fake_twilio_rest::SentMessage, String) {
    let script = script(stem);
    let texting = TextingServer::start(&script).await;
    let report = texting.server.call(&script, None).await;
    let stored = texting.server.stored(&report.call_sid).await.unwrap();
    assert_eq!(stored.outcome, outcome, "{report:?}");
    messages_reach(&texting.fake, 1).await;
    let sent = texting.fake.messages().remove(0);
    let phone = texting
        .server
        .storage
        .appointments_for_call(&report.call_sid)
        .await
        .unwrap()[0]
        .phone
        .clone();
    texting.shutdown().await;
    (sent, phone)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_and_cancelling_a_visit_by_phone_text_the_visits_number() {
    let (moved, phone) = the_text_of("reschedule_caller_id", "rescheduled").await;
    assert_eq!(moved.to, phone);
    assert!(
        moved.body.contains("your visit is now") && moved.body.contains("Reply STOP"),
        "{}",
        moved.body
    );
    let (cancelled, phone) = the_text_of("cancel_caller_id", "cancelled").await;
    assert_eq!(cancelled.to, phone);
    assert!(
        cancelled.body.contains("is cancelled"),
        "{}",
        cancelled.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shift_on_call_takes_the_emergency_and_its_alert() {
    use frontdesk_engine::business::{DayName, Shift};
    use frontdesk_testkit::phone::PhoneEnding;

    // The script calls on Monday at 09:12: a shift covering it routes the emergency.
    let engine = engine_with(|business| {
        business.phones.shifts = vec![Shift {
            days: vec![DayName::Monday],
            from: jiff::civil::time(9, 0, 0, 0),
            until: jiff::civil::time(10, 0, 0, 0),
            human: None,
            emergency: Some("+12145550999".into()),
            on_call: Some(vec!["+12145550998".into()]),
        }];
    });
    let script = script("emergency_gas");
    let texting = TextingServer::start_with(engine, &script).await;
    let report = texting.server.call(&script, None).await;
    assert_eq!(
        report.ending,
        PhoneEnding::Transferred("+12145550999".into())
    );
    messages_reach(&texting.fake, 1).await;
    assert_eq!(texting.fake.messages()[0].to, "+12145550998");
    texting.shutdown().await;
}

/// A call that ends after a tool result with no visit in it (an availability check) still has
/// its one-line summary.
#[test]
fn a_call_ending_after_a_result_without_a_visit_is_still_summarized() {
    let engine = crate::twilio_gather::engine();
    let vars = serde_json::json!({
        "outcome": "abandoned",
        "caller": "+12145550123",
        "said": "is anything open tuesday afternoon",
        "hazard": null,
        "result": { "available": true, "offered": ["2026-06-02T14:00"] },
    });
    let summary = engine.render_message("summary/call", &vars).unwrap();
    assert!(
        summary.contains("left before anything was settled"),
        "{summary}"
    );
}
