//! `frontdesk serve` as its own process, as an operator runs it: what it prints, how it refuses
//! a setup that cannot work, and how it stops.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::served::Served;

/// `frontdesk serve` on a free loopback port with its own SQLite file.
fn serve(args: &[&str]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("frontdesk.db").display());
    let mut served = Served::spawn(&db, args, &[]);
    served.keep(dir);
    served
}

fn post(url: &str, fields: &[(&str, &str)]) -> u16 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        frontdesk_testkit::phone::http_client()
            .post(url)
            .form(fields)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

fn get_status(url: &str) -> u16 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = frontdesk_testkit::phone::http_client();
    runtime.block_on(async { http.get(url).send().await.unwrap().status().as_u16() })
}

#[test]
fn stream_mode_without_speech_refuses_to_start_and_names_the_setting() {
    let mut served = serve(&[
        "--mode",
        "stream",
        "--twilio-auth-token",
        "token",
        "--twilio-account-sid",
        "AC00000000000000000000000000000000",
        "--tts",
        "deepgram",
    ]);
    let code = served.exit_code(Duration::from_secs(60));
    assert_ne!(code, Some(0));
    let said = served.line_with("DEEPGRAM_API_KEY");
    assert!(said.contains("deepgram-stt"), "{}", served.seen.join("\n"));
    let tts = served.line_with("deepgram-tts");
    assert!(tts.contains("DEEPGRAM_API_KEY"), "{tts}");
}

#[test]
fn a_shutdown_says_what_it_waits_for_and_a_second_interrupt_stops_at_once() {
    let mut served = serve(&["--insecure-no-signatures", "--drain-seconds", "300"]);
    let address = served.address();
    let sid = "CA0123456789abcdef0123456789abcdef";
    let answered = post(
        &format!("http://{address}/twilio/voice"),
        &[("CallSid", sid), ("From", "+12145550123")],
    );
    assert_eq!(answered, 200);
    // The server names each call it answers, for `calls show`.
    let started = served.line_with("call started");
    assert!(started.contains(sid), "{started}");
    assert!(!started.contains("+12145550123"), "masked: {started}");

    served.interrupt();
    let notice = served.line_with("shutting down");
    assert!(
        notice.contains("300 s") && notice.contains("1 live call"),
        "{notice}"
    );
    assert!(notice.contains("Ctrl-C again"), "{notice}");
    assert_eq!(get_status(&format!("http://{address}/health")), 503);

    served.interrupt();
    assert_eq!(served.exit_code(Duration::from_secs(10)), Some(130));
    served.line_with("stopped at once");
}

#[test]
fn the_worker_command_sends_what_the_outbox_holds() {
    use frontdesk::storage::{MessageState, NewMessage};
    use frontdesk_testkit::fake_twilio_rest::FakeTwilioRest;

    const ACCOUNT: &str = "AC00000000000000000000000000000000";
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime
        .block_on(FakeTwilioRest::start(ACCOUNT, "token"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("frontdesk.db").display());
    let store = runtime.block_on(frontdesk::storage::open(&db)).unwrap();
    let queued = NewMessage {
        kind: "sms".into(),
        recipient: "+12145550123".into(),
        body: "Your visit is tomorrow at 9 AM.".into(),
        call_id: None,
        dedupe_key: "reminder:1".into(),
        not_before_ms: 0,
    };
    runtime.block_on(store.enqueue_message(&queued)).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args([
            "--project",
            env!("CARGO_MANIFEST_DIR"),
            "--database",
            &db,
            "worker",
        ])
        .args([
            "--twilio-account-sid",
            ACCOUNT,
            "--twilio-auth-token",
            "token",
        ])
        .args(["--twilio-api-url", &fake.base_url()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let due = Instant::now() + Duration::from_secs(60);
    while fake.messages().is_empty() && Instant::now() < due {
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = fake.messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body, queued.body);
    assert_eq!(sent[0].from, "+12145550100", "from phones.main");
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let stored = runtime.block_on(store.messages(None)).unwrap();
    assert_eq!(stored[0].state, MessageState::Sent);
    runtime.block_on(store.close());
}
