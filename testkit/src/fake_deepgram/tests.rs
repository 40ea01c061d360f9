use super::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    url: &str,
    key: Option<&str>,
) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request().unwrap();
    if let Some(key) = key {
        request
            .headers_mut()
            .insert("authorization", format!("Token {key}").parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

/// Next text frame as JSON, or the close frame's (code, reason).
async fn next(ws: &mut Client) -> Result<Value, (u16, String)> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame arrives");
        match message {
            Some(Ok(Ws::Text(text))) => return Ok(serde_json::from_str(text.as_str()).unwrap()),
            Some(Ok(Ws::Close(frame))) => {
                return Err(frame.map_or((1005, String::new()), |f| {
                    (u16::from(f.code), f.reason.to_string())
                }));
            }
            Some(Ok(Ws::Binary(_))) => panic!("unexpected binary frame"),
            Some(Ok(_)) => {}
            other => panic!("socket ended: {other:?}"),
        }
    }
}

#[tokio::test]
async fn stt_follows_the_protocol_message_for_message() {
    let fake = FakeDeepgram::start(FakeDeepgramOptions {
        api_key: Some("k".to_string()),
        ..Default::default()
    })
    .unwrap();
    let mut observed = fake.on_event();
    let url = format!(
        "{}?encoding=mulaw&sample_rate=8000&interim_results=true&endpointing=300&utterance_end_ms=1000&vad_events=true&tag=call%201",
        fake.stt_url()
    );
    let mut ws = connect(&url, Some("k")).await.unwrap();
    fake.say("call 1", "Hello, I'd like to book.");
    // Chunks that do not line up with 20 ms frames.
    let mut audio = speech_audio(1000);
    audio.extend(silence_audio(1500));
    for chunk in audio.chunks(333) {
        ws.send(Ws::binary(chunk.to_vec())).await.unwrap();
    }
    ws.send(Ws::text("this is not json")).await.unwrap();
    ws.send(Ws::text(r#"{"type":"KeepAlive"}"#)).await.unwrap();
    ws.send(Ws::text(r#"{"type":"CloseStream"}"#))
        .await
        .unwrap();

    let started = next(&mut ws).await.unwrap();
    assert_eq!(started["type"], "SpeechStarted");
    assert_eq!(started["timestamp"], 0.0);
    let mut interims = 0;
    let last = loop {
        let message = next(&mut ws).await.unwrap();
        assert_eq!(message["type"], "Results");
        if message["is_final"] == true {
            break message;
        }
        interims += 1;
        let transcript = message["channel"]["alternatives"][0]["transcript"]
            .as_str()
            .unwrap();
        assert!(!transcript.is_empty());
        assert!(
            "Hello, I'd like to book.".starts_with(transcript),
            "{transcript}"
        );
    };
    assert_eq!(interims, 5, "one interim per 200 ms of speech");
    assert_eq!(last["speech_final"], true);
    assert_eq!(last["from_finalize"], false);
    let alternative = &last["channel"]["alternatives"][0];
    assert_eq!(alternative["transcript"], "Hello, I'd like to book.");
    assert_eq!(alternative["confidence"], 0.98);
    let words = alternative["words"].as_array().unwrap();
    let bare: Vec<&str> = words.iter().map(|w| w["word"].as_str().unwrap()).collect();
    assert_eq!(bare, ["hello", "i'd", "like", "to", "book"]);
    assert_eq!(words[0]["punctuated_word"], "Hello,");
    let (start, duration) = (
        last["start"].as_f64().unwrap(),
        last["duration"].as_f64().unwrap(),
    );
    assert_eq!(start, 0.0);
    assert!(
        (duration - 1.3).abs() < 1e-6,
        "final after 300 ms of silence: {duration}"
    );
    let mut previous_end = 0.0;
    for word in words {
        let (s, e) = (
            word["start"].as_f64().unwrap(),
            word["end"].as_f64().unwrap(),
        );
        assert!(
            s >= previous_end - 1e-6 && e > s && e <= 1.0 + 1e-6,
            "{word}"
        );
        previous_end = e;
    }
    let utterance_end = next(&mut ws).await.unwrap();
    assert_eq!(utterance_end["type"], "UtteranceEnd");
    assert_eq!(utterance_end["last_word_end"], 1.0);
    let error = next(&mut ws).await.unwrap();
    assert_eq!(error["type"], "Error", "garbage text gets an error message");
    let metadata = next(&mut ws).await.unwrap();
    assert_eq!(metadata["type"], "Metadata");
    assert_eq!(metadata["duration"], 2.5);
    assert_eq!(next(&mut ws).await, Err((1000, String::new())));

    let kinds: Vec<(FakeSttKind, String)> = std::iter::from_fn(|| observed.try_recv().ok())
        .map(|e| {
            assert_eq!(e.tag, "call 1");
            (e.kind, e.text)
        })
        .collect();
    assert_eq!(kinds.first().unwrap().0, FakeSttKind::SpeechStarted);
    assert_eq!(kinds.len(), 8);
    assert_eq!(
        kinds[6],
        (FakeSttKind::Final, "Hello, I'd like to book.".to_string())
    );
    assert_eq!(kinds[7].0, FakeSttKind::UtteranceEnd);
    let stats = fake.stats();
    assert_eq!(stats.stt_audio_bytes, 20_000);
    assert_eq!(stats.stt_keepalives, 1);
    assert_eq!(stats.stt_interims_sent, 5);
    assert_eq!(stats.stt_finals_sent, 1);
    assert_eq!(fake.last_stt_query().unwrap()["tag"], "call 1");
}

#[tokio::test]
async fn stt_finalize_answers_even_without_speech() {
    let fake = FakeDeepgram::start(FakeDeepgramOptions::default()).unwrap();
    let mut ws = connect(&format!("{}?tag=t", fake.stt_url()), None)
        .await
        .unwrap();
    ws.send(Ws::binary(silence_audio(100))).await.unwrap();
    ws.send(Ws::text(r#"{"type":"Finalize"}"#)).await.unwrap();
    let results = next(&mut ws).await.unwrap();
    assert_eq!(results["type"], "Results");
    assert_eq!(results["from_finalize"], true);
    assert_eq!(results["channel"]["alternatives"][0]["transcript"], "");
    // Without vad_events there is no SpeechStarted; without interim_results no interims.
    fake.say("t", "Yes.");
    ws.send(Ws::binary(speech_audio(600))).await.unwrap();
    ws.send(Ws::text(r#"{"type":"Finalize"}"#)).await.unwrap();
    let results = next(&mut ws).await.unwrap();
    assert_eq!(results["from_finalize"], true);
    assert_eq!(results["is_final"], true);
    assert_eq!(results["channel"]["alternatives"][0]["transcript"], "Yes.");
}

#[tokio::test]
async fn stt_closes_idle_connections_with_net_0001() {
    let fake = FakeDeepgram::start(FakeDeepgramOptions {
        idle_timeout: Duration::from_millis(100),
        ..Default::default()
    })
    .unwrap();
    let mut ws = connect(&fake.stt_url(), None).await.unwrap();
    assert_eq!(next(&mut ws).await, Err((1011, "NET-0001".to_string())));
    assert_eq!(fake.stats().stt_idle_closes, 1);
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_refused_with_401() {
    let fake = FakeDeepgram::start(FakeDeepgramOptions {
        api_key: Some("right".to_string()),
        ..Default::default()
    })
    .unwrap();
    for (url, key) in [
        (fake.stt_url(), None),
        (fake.stt_url(), Some("wrong")),
        (fake.tts_url(), Some("wrong")),
    ] {
        match connect(&url, key).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 401)
            }
            other => panic!("expected 401, got {:?}", other.map(|_| ())),
        }
    }
    assert_eq!(fake.stats().auth_rejected, 3);
    assert!(connect(&fake.tts_url(), Some("right")).await.is_ok());
}

/// Reads until a text frame, summing binary bytes on the way.
async fn audio_then_text(ws: &mut Client) -> (usize, Value) {
    let mut bytes = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Ws::Binary(b))) => bytes += b.len(),
            Some(Ok(Ws::Text(t))) => return (bytes, serde_json::from_str(t.as_str()).unwrap()),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn tts_follows_the_protocol() {
    let fake = FakeDeepgram::start(FakeDeepgramOptions::default()).unwrap();
    let mut ws = connect(
        &format!(
            "{}?model=aura-2-thalia-en&encoding=linear16",
            fake.tts_url()
        ),
        None,
    )
    .await
    .unwrap();
    let metadata = next(&mut ws).await.unwrap();
    assert_eq!(metadata["type"], "Metadata");
    assert_eq!(metadata["model_name"], "aura-2-thalia-en");
    let warning = next(&mut ws).await.unwrap();
    assert_eq!(warning["type"], "Warning", "linear16 is not served");

    ws.send(Ws::text(r#"{"type":"Speak","text":"Hello "}"#))
        .await
        .unwrap();
    ws.send(Ws::text(r#"{"type":"Speak","text":"world."}"#))
        .await
        .unwrap();
    ws.send(Ws::text(r#"{"type":"Flush"}"#)).await.unwrap();
    let (bytes, flushed) = audio_then_text(&mut ws).await;
    assert_eq!(bytes, 12 * 60 * 8);
    assert_eq!(
        flushed,
        serde_json::json!({"type": "Flushed", "sequence_id": 0})
    );
    ws.send(Ws::text(r#"{"type":"Clear"}"#)).await.unwrap();
    let (bytes, cleared) = audio_then_text(&mut ws).await;
    assert_eq!(bytes, 0);
    assert_eq!(
        cleared,
        serde_json::json!({"type": "Cleared", "sequence_id": 1})
    );

    // More than 20 flushes a minute draw a warning but are still served.
    for _ in 0..21 {
        ws.send(Ws::text(r#"{"type":"Flush"}"#)).await.unwrap();
    }
    // With the earlier one, flushes 21 and 22 exceed the limit.
    let (mut warnings, mut sequence_ids) = (0, Vec::new());
    while sequence_ids.len() < 21 {
        let (_, message) = audio_then_text(&mut ws).await;
        match message["type"].as_str() {
            Some("Warning") => warnings += 1,
            Some("Flushed") => sequence_ids.push(message["sequence_id"].as_u64().unwrap()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(warnings, 2);
    assert_eq!(sequence_ids, (2..=22).collect::<Vec<u64>>());
    ws.send(Ws::text(r#"{"type":"Speak","text":"Bye."}"#))
        .await
        .unwrap();
    ws.send(Ws::text(r#"{"type":"Close"}"#)).await.unwrap();
    let mut bytes = 0;
    let close = loop {
        match ws.next().await {
            Some(Ok(Ws::Binary(b))) => bytes += b.len(),
            Some(Ok(Ws::Close(frame))) => break frame.map(|f| f.code),
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(bytes, 4 * 60 * 8, "Close flushes");
    assert_eq!(close, Some(CloseCode::Normal));
    let stats = fake.stats();
    assert_eq!(
        (stats.tts_speaks, stats.tts_flushes, stats.tts_clears),
        (3, 22, 1)
    );
}

#[tokio::test]
async fn tts_clear_cuts_paced_audio_short() {
    let fake = FakeDeepgram::start(FakeDeepgramOptions {
        tts_realtime_factor: Some(10.0),
        tts_chunk_bytes: 800,
        ..Default::default()
    })
    .unwrap();
    let mut ws = connect(
        &format!("{}?encoding=mulaw&sample_rate=8000", fake.tts_url()),
        None,
    )
    .await
    .unwrap();
    assert_eq!(next(&mut ws).await.unwrap()["type"], "Metadata");
    let text = "a".repeat(500); // 30 s of audio: 3 s at 10x.
    ws.send(Ws::text(
        serde_json::json!({"type": "Speak", "text": text}).to_string(),
    ))
    .await
    .unwrap();
    ws.send(Ws::text(r#"{"type":"Flush"}"#)).await.unwrap();
    // Wait for the first chunk, then barge in.
    match ws.next().await {
        Some(Ok(Ws::Binary(b))) => assert_eq!(b.len(), 800),
        other => panic!("unexpected {other:?}"),
    }
    ws.send(Ws::text(r#"{"type":"Clear"}"#)).await.unwrap();
    let (bytes, cleared) = audio_then_text(&mut ws).await;
    assert_eq!(cleared["type"], "Cleared");
    assert!(
        bytes < 500 * 60 * 8 / 2,
        "most of the audio was dropped: {bytes}"
    );
    // Nothing of the cleared generation follows.
    ws.send(Ws::text(r#"{"type":"Flush"}"#)).await.unwrap();
    let (bytes, flushed) = audio_then_text(&mut ws).await;
    assert_eq!((bytes, flushed["type"].as_str()), (0, Some("Flushed")));
}

#[tokio::test]
async fn dropping_the_fake_closes_its_connections_and_port() {
    let fake = FakeDeepgram::start(FakeDeepgramOptions::default()).unwrap();
    let url = fake.stt_url();
    let mut ws = connect(&url, None).await.unwrap();
    ws.send(Ws::binary(silence_audio(20))).await.unwrap();
    drop(fake);
    assert_eq!(
        next(&mut ws).await,
        Err((1001, "shutting down".to_string()))
    );
    let refused = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if connect(&url, None).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(refused.is_ok(), "the listener stops");
}

#[test]
fn speech_audio_is_speech_and_silence_is_not() {
    let speech = speech_audio(2000);
    assert_eq!(speech.len(), 16_000);
    assert!(speech.chunks(FRAME_BYTES).all(|f| rms(f) > SPEECH_RMS));
    assert!(
        silence_audio(100)
            .chunks(FRAME_BYTES)
            .all(|f| rms(f) == 0.0)
    );
    assert_eq!(percent_decode("a%20b+c%2"), "a b c%2");
    assert_eq!(
        parse_query(Some("keyterm=A%26B&keyterm=x&flag")),
        [
            ("keyterm".to_string(), "A&B".to_string()),
            ("keyterm".to_string(), "x".to_string()),
            ("flag".to_string(), String::new())
        ]
    );
}
