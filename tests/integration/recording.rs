//! Call recording with consent: the caller hears the notice, and only then does recording start
//! through Twilio's REST API; the finished recording is listed with the call.

use std::sync::Arc;

use frontdesk::call_event::Event;
use frontdesk::project::{ProjectPaths, read_sources};
use frontdesk::server::Mode;
use frontdesk_engine::Engine;
use frontdesk_testkit::fake_twilio_rest::FakeTwilioRest;
use frontdesk_testkit::phone::Speaker;

use crate::support::replay::{ACCOUNT_SID, AUTH_TOKEN, ReplayPace, TestServer};
use crate::twilio_gather::{post_signed, script, webhook_fields};

fn engine_recording() -> Arc<Engine> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources =
        read_sources(&ProjectPaths::at_root(root), frontdesk::tools::catalog()).unwrap();
    sources.business.recording.enabled = true;
    Arc::new(Engine::load(sources).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_call_hears_the_notice_first_and_lists_its_recording() {
    let fake = FakeTwilioRest::start(ACCOUNT_SID, AUTH_TOKEN)
        .await
        .unwrap();
    let script = script("booking_all_in_one");
    let api_url = fake.base_url();
    let server = TestServer::start_configured(
        engine_recording(),
        &script,
        |config| config.twilio_api_url = api_url,
        |driver, _| driver,
    )
    .await
    .unwrap();
    let report = server.call(&script, None).await;
    let stored = server.stored(&report.call_sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{report:?}");
    let agent: Vec<&str> = report
        .transcript
        .iter()
        .filter(|(speaker, _)| *speaker == Speaker::Agent)
        .map(|(_, line)| line.as_str())
        .collect();
    assert!(agent[0].starts_with("This call is recorded"), "{agent:?}");
    assert!(!agent[1].contains("recorded"), "{agent:?}");

    // The recording starts in the background; the call never waits for it.
    for _ in 0..200 {
        if !fake.recordings().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let recordings = fake.recordings();
    assert_eq!(recordings.len(), 1, "{recordings:?}");
    let recording = &recordings[0];
    assert_eq!(recording.call_sid, report.call_sid);
    assert_eq!(recording.channels.as_deref(), Some("dual"));
    let callback = recording.status_callback.clone().unwrap();
    assert_eq!(callback, format!("{}/twilio/recording", server.line.server));

    // Twilio reports the finished recording.
    let url = format!(
        "https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{}",
        recording.sid
    );
    let fields = webhook_fields(
        &report.call_sid,
        &[
            ("RecordingSid", &recording.sid),
            ("RecordingUrl", &url),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", "42"),
            ("RecordingChannels", "2"),
        ],
    );
    assert_eq!(post_signed(&callback, &fields).await.status(), 200);
    let unsigned = frontdesk_testkit::phone::http_client()
        .post(&callback)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    let mut events = Vec::new();
    for _ in 0..200 {
        server.settle().await;
        let record = server.storage.get_call(&report.call_sid).await.unwrap();
        events = record.unwrap().events.iter().map(|e| e.event()).collect();
        if events
            .iter()
            .filter(|e| matches!(e, Event::RecordingStarted { .. } | Event::Recording { .. }))
            .count()
            == 2
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(
        events.contains(&Event::RecordingStarted {
            recording_sid: recording.sid.clone()
        }),
        "{events:?}"
    );
    assert!(
        events.contains(&Event::Recording {
            recording_sid: recording.sid.clone(),
            url,
            duration_seconds: Some(42),
            status: "completed".into(),
        }),
        "{events:?}"
    );
    server.shutdown().await;
    fake.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_stream_call_hears_the_notice_before_the_stream() {
    let script = script("booking_all_in_one");
    let pace = ReplayPace::default();
    let server = TestServer::start(engine_recording(), &script, Mode::Stream, &pace)
        .await
        .unwrap();
    let report = server.call(&script, None).await;
    let stored = server.stored(&report.call_sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{report:?}");
    assert_eq!(
        report
            .transcript
            .first()
            .map(|(s, line)| (*s, line.as_str())),
        Some((
            Speaker::Agent,
            "This call is recorded so we can make sure you get the help you need."
        ))
    );
    let rest = server
        .kit
        .as_ref()
        .and_then(|kit| kit.rest.as_ref())
        .unwrap();
    for _ in 0..200 {
        if !rest.recordings().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let recordings = rest.recordings();
    assert_eq!(recordings.len(), 1, "{recordings:?}");
    assert_eq!(recordings[0].call_sid, report.call_sid);
    server.shutdown().await;
}
