//! `frontdesk serve` as its own process, as an operator runs it: what it prints, how it refuses
//! a setup that cannot work, and how it stops.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `frontdesk serve` on a free loopback port, its stderr read line by line.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    _dir: tempfile::TempDir,
}

fn serve(args: &[&str]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("frontdesk.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["--project", env!("CARGO_MANIFEST_DIR"), "--database", &db])
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("DEEPGRAM_API_KEY")
        .env_remove("TWILIO_AUTH_TOKEN")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Served {
        child,
        lines,
        seen: Vec::new(),
        _dir: dir,
    }
}

impl Served {
    /// The first stderr line containing `text`, waiting up to 60 s for it.
    fn line_with(&mut self, text: &str) -> String {
        let due = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(line) = self.seen.iter().find(|l| l.contains(text)) {
                return line.clone();
            }
            let left = due.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no line with {text:?} in:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// The server's address, from its start-up banner.
    fn address(&mut self) -> String {
        let banner = self.line_with("mode on http://");
        let after = banner.split("mode on http://").nth(1).unwrap();
        after.split_whitespace().next().unwrap().to_string()
    }

    fn interrupt(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
    }

    /// The exit code, waiting up to `limit`.
    fn exit_code(&mut self, limit: Duration) -> Option<i32> {
        let due = Instant::now() + limit;
        while Instant::now() < due {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("still running after {limit:?}:\n{}", self.seen.join("\n"));
    }
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
