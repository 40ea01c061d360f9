//! Stream mode end to end: a real server on loopback, the fake Twilio phone streaming audio in
//! real time, the fake Deepgram hearing it and speaking back, the fake Twilio REST API taking
//! transfers and hang-ups.

use std::time::Duration;

use crate::support::replay::{ACCOUNT_SID, AUTH_TOKEN, ReplayPace, TestServer};
use frontdesk::server::Mode;
use frontdesk::server::stream::token::{self, BoundCall, StreamKey};
use frontdesk_engine::script::CallerAction;
use frontdesk_telephony::signature;
use frontdesk_testkit::phone::{
    BargeIn, PhoneEnding, Speaker, answer_stream, http_client, new_call_sid, start_frame,
    stream_call,
};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::twilio_gather::{Project, engine, replay_all, replay_project, script, steps};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_caller_script_ends_the_same_over_media_streams() {
    replay_all(Mode::Stream, 12, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_businesss_scripts_end_the_same_over_media_streams() {
    for example in Project::examples() {
        replay_project(&example, Mode::Stream, 12, None).await;
    }
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
async fn the_phone_hears_what_the_agent_said() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Stream, &ReplayPace::default())
        .await
        .unwrap();
    let report = server.call(&script, None).await;
    server.settle().await;
    let record = server
        .storage
        .get_call(&report.call_sid)
        .await
        .unwrap()
        .unwrap();
    let said: Vec<&str> = record
        .turns
        .iter()
        .filter(|t| t.speaker == frontdesk::storage::Speaker::Agent)
        .map(|t| t.text.as_str())
        .collect();
    let heard: Vec<&str> = report
        .transcript
        .iter()
        .filter(|(who, _)| *who == Speaker::Agent)
        .map(|(_, text)| text.as_str())
        .collect();
    assert!(said.len() >= 3, "{said:?}");
    // The greeting was cached before the call and the rest spoken during it: every line the
    // record holds reached the phone, named, in order.
    assert_eq!(heard.join(" "), said.join(" "), "{report:?}");
    assert_eq!(report.turn_latencies.len(), said.len() - 1, "{report:?}");
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
    // The person answering hears who is calling before being connected.
    let whisper = report.whisper.unwrap_or_default();
    assert!(whisper.starts_with("A call from "), "{whisper:?}");
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
async fn broken_frames_end_that_stream_and_the_server_keeps_serving() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Stream, &ReplayPace::default())
        .await
        .unwrap();
    let url = server.server.state.config().stream_url();
    let signed = || Some(signature::compute(AUTH_TOKEN, &url, &[]));

    // Out of order and malformed before `start`, then a real start, then garbage mid-call.
    let sid = new_call_sid();
    let stream = answer_stream(&http_client(), &server.line, &sid)
        .await
        .unwrap();
    let start = start_frame(ACCOUNT_SID, &sid, &stream);
    let mut socket = open_stream(&server, signed()).await.unwrap();
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
    // A broken stream is not a finished call: Twilio asks the `<Connect>` action, and the call
    // would go on in a new stream; here the caller hangs up instead, and the status callback
    // closes the record.
    let base = &server.line.server;
    let fields = crate::twilio_gather::webhook_fields(&sid, &[]);
    let next =
        crate::twilio_gather::post_signed(&format!("{base}/twilio/stream-ended"), &fields).await;
    assert_eq!(next.status(), 200);
    let next = next.text().await.unwrap();
    assert!(
        next.contains("<Connect action="),
        "a new stream for the call: {next}"
    );
    let completed = crate::twilio_gather::webhook_fields(&sid, &[("CallStatus", "completed")]);
    crate::twilio_gather::post_signed(&format!("{base}/twilio/status"), &completed).await;
    server.settle().await;
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    assert!(record.ended_at.is_some(), "the broken call was closed");

    // The server still answers a normal call.
    let report = server.call(&script, None).await;
    let stored = server.stored(&report.call_sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{report:?}");
    server.shutdown().await;
}

/// Opens a correctly signed stream, sends `start`, and reads until the server speaks (true) or
/// closes the stream (false).
async fn start_and_listen(server: &TestServer, start: &serde_json::Value) -> bool {
    let url = server.server.state.config().stream_url();
    let signed = signature::compute(AUTH_TOKEN, &url, &[]);
    let mut socket = open_stream(server, Some(signed)).await.unwrap();
    let connected = r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#;
    socket.send(Message::Text(connected.into())).await.unwrap();
    socket
        .send(Message::Text(start.to_string().into()))
        .await
        .unwrap();
    let spoke = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) if text.contains(r#""event":"media""#) => {
                    return true;
                }
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return false,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    let _ = socket.close(None).await;
    spoke.expect("the server neither spoke nor closed the stream")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_not_bound_to_a_call_we_answered_is_refused() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Stream, &ReplayPace::default())
        .await
        .unwrap();
    let http = http_client();
    // A real call: /twilio/voice answered it and its token rides in the Stream's parameters.
    let real_sid = new_call_sid();
    let real = answer_stream(&http, &server.line, &real_sid).await.unwrap();
    let other_sid = new_call_sid();
    let other = answer_stream(&http, &server.line, &other_sid)
        .await
        .unwrap();
    let with_parameter =
        |stream: &frontdesk_telephony::twiml::Stream, name: &str, value: Option<&str>| {
            let mut stream = stream.clone();
            stream.parameters.retain(|(k, _)| k != name);
            if let Some(value) = value {
                stream
                    .parameters
                    .push((name.to_string(), value.to_string()));
            }
            stream
        };
    let token_of = |stream: &frontdesk_telephony::twiml::Stream| {
        stream
            .parameters
            .iter()
            .find(|(k, _)| k == token::PARAMETER)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    // A token made with the right key and call, but already expired.
    let caller = server.line.from.clone();
    let called = server.line.to.clone();
    let expired_sid = new_call_sid();
    let expired_token = StreamKey::new(AUTH_TOKEN.as_bytes()).issue(
        &BoundCall {
            call_sid: &expired_sid,
            caller: &caller,
            called: &called,
        },
        jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1),
    );
    let expired = with_parameter(&real, token::PARAMETER, Some(&expired_token));
    let forged = [
        (
            "no token",
            real_sid.clone(),
            with_parameter(&real, token::PARAMETER, None),
        ),
        (
            "another call's token",
            real_sid.clone(),
            with_parameter(&real, token::PARAMETER, Some(&token_of(&other))),
        ),
        ("a forged CallSid", new_call_sid(), real.clone()),
        (
            "an altered caller",
            real_sid.clone(),
            with_parameter(&real, "From", Some("+12145550188")),
        ),
        (
            "a withheld caller",
            real_sid.clone(),
            with_parameter(&real, "From", None),
        ),
        ("an expired token", expired_sid, expired),
    ];
    for (what, sid, stream) in &forged {
        let start = start_frame(ACCOUNT_SID, sid, stream);
        assert!(
            !start_and_listen(&server, &start).await,
            "{what}: the stream was accepted"
        );
        server.settle().await;
        assert!(
            server.storage.get_call(sid).await.unwrap().is_none(),
            "{what}: a refused stream must not be recorded as a call"
        );
    }

    // The real call's own start is accepted and the agent speaks; the same start again while
    // that stream is live is a replay and is refused.
    let url = server.server.state.config().stream_url();
    let signed = signature::compute(AUTH_TOKEN, &url, &[]);
    let mut first = open_stream(&server, Some(signed)).await.unwrap();
    let start = start_frame(ACCOUNT_SID, &real_sid, &real);
    first
        .send(Message::Text(start.to_string().into()))
        .await
        .unwrap();
    let mut spoke = false;
    while let Ok(Some(Ok(frame))) =
        tokio::time::timeout(Duration::from_secs(20), first.next()).await
    {
        if let Message::Text(text) = frame
            && text.contains(r#""event":"media""#)
        {
            spoke = true;
            break;
        }
    }
    assert!(spoke, "the real call's stream was refused");
    assert!(
        !start_and_listen(&server, &start).await,
        "a replayed start was accepted"
    );
    let _ = first.close(None).await;
    server.shutdown().await;
}
