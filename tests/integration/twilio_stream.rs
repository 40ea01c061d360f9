//! Stream mode end to end: a real server on loopback, the fake Twilio phone streaming audio in
//! real time, the fake Deepgram hearing it and speaking back, the fake Twilio REST API taking
//! transfers and hang-ups.

use std::time::Duration;

use frontdesk::script::CallerAction;
use frontdesk::server::Mode;
use frontdesk::testkit::phone::{BargeIn, PhoneEnding, http_client, new_call_sid, stream_call};
use frontdesk::testkit::replay::{AUTH_TOKEN, ReplayPace, TestServer};
use frontdesk::twilio::signature;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::twilio_gather::{engine, replay_all, script, steps};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_caller_script_ends_the_same_over_media_streams() {
    replay_all(Mode::Stream, 12, None).await;
}

/// Agent audio at a real speaking rate, so there is something to talk over.
fn real_time() -> ReplayPace {
    ReplayPace {
        agent_ms_per_char: 60,
        ..ReplayPace::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn talking_over_the_agent_clears_its_audio_at_once() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Stream, &real_time())
        .await
        .unwrap();
    let barge_in = BargeIn {
        on_turn: 1,
        after: Duration::from_millis(600),
        text: "can someone fix my ac in fort worth tomorrow at 2".into(),
    };
    let report = server.call(&script, Some(barge_in)).await;
    assert_eq!(report.clears, 1, "{report:?}");
    assert_eq!(report.barge_in_latencies.len(), 1, "{report:?}");
    assert!(
        report.barge_in_frames.iter().all(|&frames| frames <= 1),
        "clear must come within one 20 ms frame of the speech cue: {:?}",
        report.barge_in_frames
    );
    // The interrupted greeting did not derail the call: the booking still happens.
    let stored = server.stored(&report.call_sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{report:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn safety_instructions_are_not_cut_off() {
    let script = script("emergency_gas");
    let server = TestServer::start(engine(), &script, Mode::Stream, &real_time())
        .await
        .unwrap();
    let barge_in = BargeIn {
        on_turn: 2,
        after: Duration::from_millis(300),
        text: "wait what should i do".into(),
    };
    let report = server.call(&script, Some(barge_in)).await;
    assert_eq!(report.clears, 0, "{report:?}");
    let emergency = server.engine.business().phones.emergency.clone();
    assert_eq!(report.ending, PhoneEnding::Transferred(emergency));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keypad_0_transfers_through_the_rest_api() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Stream, &ReplayPace::default())
        .await
        .unwrap();
    let http = http_client();
    let sid = new_call_sid();
    let mut caller = steps(&[CallerAction::Dtmf("0".into())]);
    let kit = server.kit.clone().unwrap();
    let report = stream_call(&http, &server.line, &mut caller, &sid, &kit, None).await;
    let human = server.engine.business().phones.human.clone();
    assert_eq!(report.ending, PhoneEnding::Transferred(human.clone()));
    let updates = kit.rest.as_ref().unwrap().updates();
    let update = updates.iter().find(|u| u.call_sid == sid).unwrap();
    let twiml = update.twiml.as_deref().unwrap();
    assert!(
        twiml.contains(&human) && twiml.contains("/twilio/dial-done"),
        "{twiml}"
    );
    let stored = server.stored(&sid).await.unwrap();
    assert_eq!(stored.outcome, "transferred");
    server.shutdown().await;
}

async fn open_stream(
    server: &TestServer,
    signature: Option<String>,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    tokio_tungstenite::tungstenite::Error,
> {
    let url = server.server.state.config().stream_url();
    let mut request = url.as_str().into_client_request().unwrap();
    if let Some(signature) = signature {
        request
            .headers_mut()
            .insert("X-Twilio-Signature", signature.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(s, _)| s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_upgrade_without_a_valid_signature_is_refused() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Stream, &ReplayPace::default())
        .await
        .unwrap();
    for signature in [None, Some("bm90IGEgc2lnbmF0dXJl".to_string())] {
        match open_stream(&server, signature).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 403)
            }
            other => panic!("expected a 403, got {:?}", other.map(|_| "a socket")),
        }
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_frames_end_that_stream_cleanly_and_the_server_keeps_serving() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Stream, &ReplayPace::default())
        .await
        .unwrap();
    let url = server.server.state.config().stream_url();
    let signed = || Some(signature::compute(AUTH_TOKEN, &url, &[]));

    // Out of order and malformed before `start`, then a real start, then garbage mid-call.
    let mut socket = open_stream(&server, signed()).await.unwrap();
    let sid = new_call_sid();
    let start = serde_json::json!({"event":"start","sequenceNumber":"1","streamSid":"MZ1",
        "start":{"accountSid":"AC1","streamSid":"MZ1","callSid":sid,"tracks":["inbound"],
        "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},
        "customParameters":{"From":"+12145550123"}}});
    for frame in [
        Message::Text(r#"{"event":"media","media":{"payload":"//8="}}"#.into()),
        Message::Text("not json at all".into()),
        Message::Binary(vec![1u8, 2, 3].into()),
        Message::Text(start.to_string().into()),
        Message::Text(r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"never-sent"}}"#.into()),
        Message::Text(r#"{"event":"media","streamSid":"MZ1","media":{"payload":"***"}}"#.into()),
        Message::Text(r#"{"event":"dtmf","streamSid":"MZ1"}"#.into()),
        Message::Binary(vec![0u8; 4096].into()),
    ] {
        socket.send(frame).await.unwrap();
    }
    // The call is alive: the greeting comes back as media.
    let mut got_media = false;
    while let Ok(Some(Ok(frame))) =
        tokio::time::timeout(Duration::from_secs(5), socket.next()).await
    {
        if let Message::Text(text) = frame
            && text.contains(r#""event":"media""#)
        {
            got_media = true;
            break;
        }
    }
    assert!(got_media, "the call survived bad frames and spoke");
    // An oversized frame closes this stream.
    let huge = "x".repeat(200 * 1024);
    let _ = socket.send(Message::Text(huge.into())).await;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .unwrap_or(false);
    assert!(closed, "an oversized frame must close the stream");
    server.settle().await;
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    assert!(record.ended_at.is_some(), "the broken call was closed");

    // The server still answers a normal call.
    let report = server.call(&script, None).await;
    let stored = server.stored(&report.call_sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{report:?}");
    server.shutdown().await;
}
