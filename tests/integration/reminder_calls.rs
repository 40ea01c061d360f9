//! Reminder calls (`texts.reminder_by: call`): the planner queues a call, the outbox worker
//! places it through the fake Twilio REST API with answering-machine detection, and the phone
//! answers it as Twilio would: a person moves the visit by voice, a machine gets the message.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use frontdesk::call_event::Event;
use frontdesk::outbox::{
    Allowlist, CallSender, OutboxWorker, Senders, SmsSender, Texts, WorkerOptions,
};
use frontdesk::storage::AppointmentStatus;
use frontdesk::twilio::rest::{TwilioRest, TwilioRestConfig};
use frontdesk_engine::business::ReminderBy;
use frontdesk_engine::script::{Script, ScriptCursor};
use frontdesk_testkit::fake_twilio_rest::{CreatedCall, FakeTwilioRest};
use frontdesk_testkit::phone::{
    Answer, PhoneEnding, PhoneLine, PhoneReport, Speaker, gather_call_at, http_client,
};
use tokio::sync::{Notify, watch};

use crate::support::replay::{ACCOUNT_SID, AUTH_TOKEN, TestServer};
use crate::texts::engine_with;

const CUSTOMER: &str = "+12145550301";
const BUSINESS: &str = "+12145550100";

/// The evening before a visit; the customer's answers when a person picks up.
const MOVES_THE_VISIT: &str = r#"
name: A reminder call the customer answers to move the visit
now: 2026-06-01T17:05:00
given:
  appointments:
    - { name: John Smith, phone: "+12145550301", location: DAL, start: 2026-06-02T10:00, issue: ac repair }
turns:
  - say: "oh no, that's not going to work for me"
answers:
  change: "move it please"
  when: "thursday at two"
  confirm: "yes"
"#;

/// A server whose outbox texts and places reminder calls through a fake Twilio.
struct ReminderServer {
    server: TestServer,
    fake: FakeTwilioRest,
    texts: Texts,
    stop: watch::Sender<bool>,
    worker: tokio::task::JoinHandle<()>,
}

impl ReminderServer {
    async fn start(script: &Script) -> ReminderServer {
        let engine = engine_with(|business| business.texts.reminder_by = ReminderBy::Call);
        let fake = FakeTwilioRest::start(ACCOUNT_SID, AUTH_TOKEN)
            .await
            .unwrap();
        let queued = Arc::new(Notify::new());
        let made = Mutex::new(None);
        let server = TestServer::start_fitted(engine.clone(), script, |driver, storage| {
            let texts = Texts::new(engine.clone(), storage.clone(), queued.clone());
            *made.lock().unwrap() = Some(texts.clone());
            driver.with_texts(texts)
        })
        .await
        .unwrap();
        let texts = made.lock().unwrap().take().unwrap();
        let twilio = Arc::new(
            TwilioRest::new(TwilioRestConfig {
                base_url: fake.base_url(),
                account_sid: ACCOUNT_SID.into(),
                auth_token: AUTH_TOKEN.into(),
            })
            .unwrap(),
        );
        let senders = Senders {
            sms: Some(SmsSender {
                twilio: twilio.clone(),
                from: BUSINESS.into(),
                allow: Allowlist::default(),
            }),
            calls: Some(CallSender {
                twilio,
                from: BUSINESS.into(),
                public_url: server.line.server.clone(),
                allow: Allowlist::default(),
            }),
            webhooks: None,
        };
        let options = WorkerOptions {
            poll: Duration::from_millis(50),
            ..WorkerOptions::default()
        };
        let worker = OutboxWorker::new(server.storage.clone(), senders, options, queued);
        let (stop, stopped) = watch::channel(false);
        let worker = tokio::spawn(worker.run(stopped));
        ReminderServer {
            server,
            fake,
            texts,
            stop,
            worker,
        }
    }

    /// Plans reminders at the script's time and waits for the call the worker places.
    async fn place_reminder(&self, script: &Script) -> CreatedCall {
        let business = self.server.engine.business();
        let zone = jiff::tz::TimeZone::get(&business.time_zone).unwrap();
        let storage = self.server.storage.as_ref();
        let planned = frontdesk::outbox::reminders::plan(
            &self.texts,
            storage,
            business,
            &zone,
            script.now,
            frontdesk::outbox::now_ms(),
        );
        assert_eq!(planned.await.unwrap(), 1);
        for _ in 0..200 {
            if let Some(call) = self.fake.created_calls().first() {
                return call.clone();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no reminder call was placed");
    }

    /// Twilio reaches the server at the call's URL once `answered_by` picked up.
    async fn answer(&self, call: &CreatedCall, script: &Script, answered_by: &str) -> PhoneReport {
        let line = PhoneLine {
            from: call.from.clone(),
            to: call.to.clone(),
            ..self.server.line.clone()
        };
        let answer = Answer {
            url: call.url.clone().unwrap(),
            fields: vec![
                ("Direction".into(), "outbound-api".into()),
                ("AnsweredBy".into(), answered_by.into()),
            ],
        };
        let mut cursor = ScriptCursor::new(script);
        gather_call_at(&http_client(), &line, &mut cursor, &call.call_sid, &answer).await
    }

    /// The visits booked from the script's time to two days on.
    async fn visits(&self, script: &Script) -> Vec<frontdesk::storage::Appointment> {
        let until = script.now.saturating_add(jiff::Span::new().days(2));
        let storage = &self.server.storage;
        storage.booked_between(script.now, until).await.unwrap()
    }

    async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.worker.await.unwrap();
        self.server.shutdown().await;
        self.fake.shutdown().await;
    }
}

fn agent_lines(report: &PhoneReport) -> Vec<&str> {
    report
        .transcript
        .iter()
        .filter(|(speaker, _)| *speaker == Speaker::Agent)
        .map(|(_, line)| line.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_answering_a_reminder_call_moves_the_visit_by_voice() {
    let script = Script::from_yaml(MOVES_THE_VISIT).unwrap();
    let reminding = ReminderServer::start(&script).await;
    let call = reminding.place_reminder(&script).await;
    let server = &reminding.server;
    assert_eq!((call.to.as_str(), call.from.as_str()), (CUSTOMER, BUSINESS));
    assert_eq!(call.machine_detection.as_deref(), Some("DetectMessageEnd"));
    let visit = reminding.visits(&script).await;
    assert_eq!(
        call.url.as_deref(),
        Some(
            format!(
                "{}/twilio/reminder?visit={}",
                server.line.server, visit[0].id
            )
            .as_str()
        )
    );
    assert_eq!(
        call.status_callback.as_deref(),
        Some(format!("{}/twilio/status", server.line.server).as_str())
    );

    let report = reminding.answer(&call, &script, "human").await;
    let stored = server.stored(&call.call_sid).await.unwrap();
    let record = server
        .storage
        .get_call(&call.call_sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.outcome, "rescheduled",
        "{:#?}\n{:#?}",
        report.transcript, record.events
    );
    let said = agent_lines(&report);
    assert!(
        said[0].starts_with("Hi John, this is Kim from KC Comfort Air"),
        "{said:?}"
    );
    assert!(said[0].contains("Tuesday, June 2nd at 10 AM"), "{said:?}");
    let moved = server
        .storage
        .get_appointment(visit[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.start, jiff::civil::date(2026, 6, 4).at(14, 0, 0, 0));
    assert_eq!(moved.status, AppointmentStatus::Booked);
    let record = server
        .storage
        .get_call(&call.call_sid)
        .await
        .unwrap()
        .unwrap();
    assert!(
        record.events.iter().any(|e| e.event()
            == Event::ReminderAnswered {
                appointment_id: visit[0].id,
                answered_by: "human".into()
            }),
        "{:?}",
        record.events
    );
    reminding.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_answering_a_reminder_call_gets_the_message() {
    let script = Script::from_yaml(MOVES_THE_VISIT).unwrap();
    let reminding = ReminderServer::start(&script).await;
    let call = reminding.place_reminder(&script).await;
    let report = reminding.answer(&call, &script, "machine_end_beep").await;
    assert_eq!(report.ending, PhoneEnding::AgentHungUp);
    let said = agent_lines(&report);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("reminder of your visit Tuesday, June 2nd at 10 AM"),
        "{said:?}"
    );
    // The machine heard no question, and nothing was changed.
    assert!(report.transcript.iter().all(|(s, _)| *s == Speaker::Agent));
    let visits = reminding.visits(&script).await;
    assert_eq!(visits.len(), 1);
    assert_eq!(
        visits[0].start,
        jiff::civil::date(2026, 6, 2).at(10, 0, 0, 0)
    );
    reminding.shutdown().await;
}
