//! A Media Stream call that loses its server: two `frontdesk serve --mode stream` replicas share
//! PostgreSQL and Redis behind a TCP balancer (which carries the WebSockets). The replica
//! holding a call's stream is killed (SIGKILL) in the middle of the call; Twilio requests the
//! `<Connect>` action, the other replica picks the call up from its session in Redis, says it
//! lost the caller for a second, asks its question again, and the call ends as it would have:
//! booked, once, with every caller line in its record.

use std::sync::Arc;
use std::time::Duration;

use frontdesk::storage::{AppointmentStatus, Speaker as RecordSpeaker, Storage};
use frontdesk_engine::script::ScriptCursor;
use frontdesk_testkit::fake_deepgram::{FakeDeepgram, FakeDeepgramOptions};
use frontdesk_testkit::fake_twilio_rest::FakeTwilioRest;
use frontdesk_testkit::phone::{
    CallerVoice, PhoneEnding, PhoneLine, Speaker, StreamKit, http_client, new_call_sid, stream_call,
};

use crate::support::replay::{ACCOUNT_SID, AUTH_TOKEN};
use crate::support::served::Served;
use crate::support::tcp_balancer::TcpBalancer;
use crate::support::with_postgres;
use crate::twilio_gather::script;

const REDIS: &str = "redis://127.0.0.1:6379";
const DEEPGRAM_KEY: &str = "test-deepgram-key";

/// Caller lines the call record holds for `sid`.
async fn recorded_caller_lines(store: &dyn Storage, sid: &str) -> Vec<String> {
    match store.get_call(sid).await.unwrap() {
        Some(record) => record
            .turns
            .into_iter()
            .filter(|t| t.speaker == RecordSpeaker::Caller)
            .map(|t| t.text)
            .collect(),
        None => Vec::new(),
    }
}

/// The replica (by index) carrying a live call, asked through each one's `/health`.
async fn replica_with_the_call(addresses: &[String]) -> Option<usize> {
    let http = http_client();
    for (index, address) in addresses.iter().enumerate() {
        let health: serde_json::Value = http
            .get(format!("http://{address}/health/detailed"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        if health["live_calls"].as_u64() == Some(1) {
            return Some(index);
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stream_call_whose_replica_dies_goes_on_on_the_other() {
    with_postgres(|store, url| async move {
        let deepgram = FakeDeepgram::start(FakeDeepgramOptions {
            api_key: Some(DEEPGRAM_KEY.into()),
            tts_ms_per_char: 12,
            ..FakeDeepgramOptions::default()
        })
        .unwrap();
        let rest = FakeTwilioRest::start(ACCOUNT_SID, AUTH_TOKEN)
            .await
            .unwrap();
        let (balancer, listener) = TcpBalancer::bind().await;
        let args = [
            "--mode",
            "stream",
            "--tts",
            "deepgram",
            "--public-url",
            &balancer.url,
            "--sessions",
            REDIS,
            "--now",
            "2026-06-01T09:12",
            "--no-texts",
            "--deepgram-stt-url",
            &deepgram.stt_url(),
            "--deepgram-tts-url",
            &deepgram.tts_url(),
            "--twilio-api-url",
            &rest.base_url(),
        ];
        let env = [
            ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
            ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
            ("DEEPGRAM_API_KEY", DEEPGRAM_KEY),
        ];
        let mut replicas: Vec<Served> = (0..2)
            .map(|_| {
                // Each server its own spill directory, as in production.
                let dir = tempfile::tempdir().unwrap();
                let spill = dir.path().display().to_string();
                let mut replica =
                    Served::spawn(&url, &[&args[..], &["--spill-dir", &spill]].concat(), &env);
                replica.keep(dir);
                replica
            })
            .collect();
        let addresses: Vec<String> =
            tokio::task::block_in_place(|| replicas.iter_mut().map(Served::address).collect());
        balancer.start(listener, addresses.clone());

        let script = Arc::new(script("booking_basic"));
        let sid = new_call_sid();
        let line = PhoneLine {
            server: balancer.url.clone(),
            auth_token: AUTH_TOKEN.into(),
            account_sid: ACCOUNT_SID.into(),
            from: script.caller_id.clone().unwrap_or_default(),
            to: "+12145550100".into(),
        };
        let kit = StreamKit {
            deepgram: Some(Arc::new(deepgram)),
            rest: Some(Arc::new(rest)),
            voice: CallerVoice::Tone,
            limit: Duration::from_secs(90),
            ms_per_char: 15,
        };
        let call = {
            let (script, sid) = (script.clone(), sid.clone());
            tokio::spawn(async move {
                let mut cursor = ScriptCursor::new(&script);
                stream_call(&http_client(), &line, &mut cursor, &sid, &kit, None).await
            })
        };

        // Two of the caller's turns are taken (and written) before the replica dies.
        let mut waited = 0;
        while recorded_caller_lines(store.as_ref(), &sid).await.len() < 2 {
            assert!(waited < 600, "the call never got two turns in");
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += 1;
        }
        let holder = replica_with_the_call(&addresses)
            .await
            .expect("one replica carries the call");
        // SIGKILL: the stream's socket breaks, whatever the replica held in memory is gone.
        tokio::task::block_in_place(|| replicas[holder].kill());

        let report = call.await.unwrap();
        assert_eq!(report.ending, PhoneEnding::AgentHungUp, "{report:#?}");
        assert_eq!(report.reconnects, 1, "{report:#?}");
        let agent: Vec<&str> = report
            .transcript
            .iter()
            .filter(|(speaker, _)| *speaker == Speaker::Agent)
            .map(|(_, text)| text.as_str())
            .collect();
        assert!(
            agent.iter().any(|t| t.contains("lost you for a second")),
            "the caller heard why the line went quiet: {agent:#?}"
        );

        // The call ended booked, once, with every line the caller said in its record.
        let mut outcome = None;
        for _ in 0..100 {
            let record = store.get_call(&sid).await.unwrap().unwrap();
            if record.outcome.is_some() {
                outcome = Some(record);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let record = outcome.expect("the call was closed in the database");
        assert_eq!(record.outcome.as_deref(), Some("booked"), "{record:#?}");
        assert!(
            record.events.iter().any(|e| e.kind == "stream_resumed"),
            "{:#?}",
            record.events
        );
        let recorded = recorded_caller_lines(store.as_ref(), &sid).await;
        for (speaker, text) in &report.transcript {
            if *speaker == Speaker::Caller && !text.starts_with('(') {
                assert!(recorded.contains(text), "{text:?} not in {recorded:#?}");
            }
        }
        let booked = store.appointments_for_call(&sid).await.unwrap();
        assert_eq!(booked.len(), 1, "{booked:#?}");
        assert_eq!(booked[0].status, AppointmentStatus::Booked);
        assert_eq!(booked[0].location, "DAL");
        assert_eq!(store.list_appointments().await.unwrap().len(), 1);
    })
    .await;
}

/// The `<Connect>` action answered by a server that speaks with Twilio's voice (gather mode):
/// a live session goes on with a Gather that apologises and asks again; an ended call hangs
/// up; a call with no session goes to a person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connect_action_goes_on_in_gather_mode_or_ends_the_call() {
    use crate::deadlines::{answer, assert_handed_to_a_person};
    use crate::support::replay::{ReplayPace, TestServer};
    use crate::twilio_gather::{engine, webhook_fields};
    use frontdesk::server::Mode;

    let script = script("booking_basic");
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    let sid = new_call_sid();
    let greeting = answer(&server, "/twilio/voice", webhook_fields(&sid, &[])).await;
    assert!(greeting.contains("<Gather"), "{greeting}");

    let resumed = answer(&server, "/twilio/stream-ended", webhook_fields(&sid, &[])).await;
    let lost = resumed.find("lost you for a second").expect(&resumed);
    let question = resumed.find("How can I help").expect(&resumed);
    assert!(
        lost < question,
        "the apology, then the question again: {resumed}"
    );
    assert!(resumed.contains("<Gather"), "{resumed}");

    // The call goes on from there, and the record says the stream was resumed.
    let next = answer(
        &server,
        "/twilio/gather?turn=1",
        webhook_fields(&sid, &[("SpeechResult", "my ac is blowing warm air")]),
    )
    .await;
    assert!(next.contains("first and last name"), "{next}");
    server.server.state.driver().flush().await;
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    assert!(
        record.events.iter().any(|e| e.kind == "stream_resumed"),
        "{:#?}",
        record.events
    );

    let unknown = answer(
        &server,
        "/twilio/stream-ended",
        webhook_fields(&new_call_sid(), &[]),
    )
    .await;
    assert_handed_to_a_person(&server, &unknown);
    server.shutdown().await;
}
