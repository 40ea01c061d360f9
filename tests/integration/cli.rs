//! The commands as a user runs them: real binary, real SQLite file, stdin and stdout.

use std::process::{Command, Stdio};

use crate::support::binary::{printed as text, run as frontdesk};

#[test]
fn a_booking_made_in_chat_is_stored_and_found_by_later_calls() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("frontdesk.db").display());
    let base = [
        "--database",
        db.as_str(),
        "chat",
        "--now",
        "2026-06-01T09:12",
        "--caller",
        "+12145550177",
    ];

    let booking = frontdesk(
        &base,
        "hi um my furnace is making a banging noise\nrosa diaz\nfort worth\nwednesday at ten\nyes please\n",
    );
    let out = text(&booking);
    assert!(booking.status.success(), "{out}");
    assert!(out.contains("(call ended: booked;"), "{out}");
    // Piped lines are echoed, so the transcript reads as a conversation.
    assert!(out.contains("you> rosa diaz\nagent: "), "{out}");
    assert!(dir.path().join("frontdesk.db").exists());

    // A later call from the same number moves it.
    let reschedule = frontdesk(
        &base,
        "i need to reschedule my appointment\nyes that's the one\nthursday at 3 pm\nyes\n",
    );
    let out = text(&reschedule);
    assert!(out.contains("Rosa Diaz"), "{out}");
    assert!(out.contains("(call ended: rescheduled;"), "{out}");
    assert!(out.contains("Thursday, June 4th at 3 PM"), "{out}");

    // And a third call cancels it.
    let cancel = frontdesk(&base, "i want to cancel my appointment\nyes\n");
    let out = text(&cancel);
    assert!(out.contains("Thursday, June 4th at 3 PM"), "{out}");
    assert!(out.contains("(call ended: cancelled;"), "{out}");

    // A fourth call finds nothing left to cancel under that number.
    let again = frontdesk(&base, "cancel my appointment please\nrosa diaz\n");
    assert!(
        text(&again).contains("(call ended: transferred;"),
        "{}",
        text(&again)
    );
}

#[test]
fn simulate_json_has_the_contract_fields() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("call.yaml");
    std::fs::write(
        &script,
        r#"name: quick booking
now: 2026-06-01T09:12:00
caller_id: "+12145550123"
turns:
  - say: "hi yeah my ac is blowing warm air"
answers:
  name: "john smith"
  location: "dallas"
  when: "tomorrow at two"
  confirm: "yeah that works"
expect:
  outcome: booked
  appointment: { location: DAL, start: 2026-06-02T14:00, name: John Smith }
"#,
    )
    .unwrap();
    let output = frontdesk(&["simulate", "--json", script.to_str().unwrap()], "");
    assert!(output.status.success(), "{}", text(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let report = &json[0];
    for field in [
        "name",
        "passed",
        "failures",
        "outcome",
        "appointments",
        "transfer_to",
        "transcript",
    ] {
        assert!(report.get(field).is_some(), "missing {field} in {report}");
    }
    assert_eq!(report["passed"], true);
    assert_eq!(report["outcome"], "booked");
    let appointment = &report["appointments"][0];
    for (field, value) in [
        ("location", "DAL"),
        ("start", "2026-06-02T14:00"),
        ("name", "John Smith"),
        ("phone", "+12145550123"),
        ("issue", "my ac is blowing warm air"),
        ("status", "booked"),
    ] {
        assert_eq!(appointment[field], value, "{appointment}");
    }
    assert_eq!(report["transcript"][0]["speaker"], "agent");
    assert_eq!(report["transcript"][1]["speaker"], "caller");

    // A failing expectation makes the command fail and says why.
    let failing = std::fs::read_to_string(&script)
        .unwrap()
        .replace("location: DAL", "location: FTW");
    std::fs::write(&script, failing).unwrap();
    let output = frontdesk(&["simulate", script.to_str().unwrap()], "");
    assert!(!output.status.success());
    assert!(
        text(&output).contains("FAIL: appointment"),
        "{}",
        text(&output)
    );
}

#[test]
fn extract_prints_date_and_time() {
    let output = frontdesk(
        &[
            "extract",
            "--now",
            "2019-03-01T10:00:00",
            "half past 3 tomorrow",
        ],
        "",
    );
    assert!(output.status.success(), "{}", text(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["date"], "2019-03-02");
    assert_eq!(json["time"], "15:30");

    let lines = "{\"id\":\"a\",\"now\":\"2019-03-01T10:00:00\",\"text\":\"the 7th at 4 pm\"}\n{\"id\":\"b\",\"now\":\"2019-03-01T10:00:00\",\"text\":\"my number is two one four five five five zero one two three\"}\n";
    let output = frontdesk(&["extract", "--jsonl"], lines);
    assert!(output.status.success(), "{}", text(&output));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[0]["id"], "a");
    assert_eq!(rows[0]["date"], "2019-03-07");
    assert_eq!(rows[0]["time"], "16:00");
    assert_eq!(rows[1]["phone"], "+12145550123");
    assert_eq!(rows[1]["date"], serde_json::Value::Null);

    let bad = frontdesk(&["extract", "--jsonl"], "not json\n");
    assert!(!bad.status.success());
    assert!(text(&bad).contains("line 1"), "{}", text(&bad));
}

#[test]
fn graph_draws_a_mermaid_diagram() {
    let output = frontdesk(&["flows", "graph", "booking"], "");
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.starts_with("stateDiagram-v2"), "{out}");
    assert!(
        out.contains("check --> confirm : result.available"),
        "{out}"
    );
    assert!(out.contains("booked --> [*] : booked"), "{out}");
    let missing = frontdesk(&["flows", "graph", "nope"], "");
    assert!(!missing.status.success());
    assert!(text(&missing).contains("no flow named `nope`"));
}

#[test]
fn calls_show_prints_the_record_with_the_models_totals() {
    use frontdesk_testkit::fake_openai::{FakeOpenAi, FakeOpenAiOptions, Reply};

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let fake = runtime
        .block_on(FakeOpenAi::start(FakeOpenAiOptions {
            default_reply: Reply::Json(serde_json::json!({})),
            answer_reply: Some(Reply::Text(
                "Yes, we work on heat pumps. We handle all the major brands.".into(),
            )),
            ..FakeOpenAiOptions::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("frontdesk.db").display());
    let url = fake.base_url();
    let chat = frontdesk(
        &[
            "--database",
            &db,
            "chat",
            "--now",
            "2026-06-01T09:12",
            "--llm-url",
            &url,
        ],
        "do you guys work on heat pumps\nbye\n",
    );
    let out = text(&chat);
    assert!(out.contains("We handle all the major brands."), "{out}");
    let call_id = out
        .split("call id ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no call id in {out}"))
        .to_string();

    let show = frontdesk(&["--database", &db, "calls", "show", &call_id], "");
    assert!(show.status.success(), "{}", text(&show));
    let record: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(record["call_id"], call_id.as_str());
    assert_eq!(record["outcome"], "answered");
    let totals = &record["llm_totals"];
    assert_eq!(totals["calls"], 1, "{totals}");
    assert_eq!(totals["failed"], 0, "{totals}");
    assert!(totals["prompt_tokens"].as_u64().unwrap() > 0, "{totals}");
    assert_eq!(totals["completion_tokens"], 12, "{totals}");

    let missing = frontdesk(&["--database", &db, "calls", "show", "CA-nope"], "");
    assert!(!missing.status.success());
    assert!(
        text(&missing).contains("no call CA-nope"),
        "{}",
        text(&missing)
    );
    drop(fake);
}

#[test]
fn calls_list_finds_calls_without_sql() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("frontdesk.db").display());
    let chat = |caller: &str, now: &str, lines: &str| {
        let out = frontdesk(
            &["--database", &db, "chat", "--caller", caller, "--now", now],
            lines,
        );
        assert!(out.status.success(), "{}", text(&out));
    };
    chat(
        "+12145550123",
        "2026-06-01T09:12",
        "what are your hours\nbye\n",
    );
    chat(
        "+19725550199",
        "2026-06-02T10:00",
        "can I talk to a person\n",
    );
    let list = |args: &[&str]| {
        let mut all = vec!["--database", db.as_str(), "calls", "list"];
        all.extend(args);
        let out = frontdesk(&all, "");
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let table = list(&[]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("STARTED"), "{table}");
    assert!(
        lines[1].contains("+19725550199") && lines[1].contains("transferred"),
        "{table}"
    );
    assert!(lines[2].contains("answered"), "{table}");

    let booked_or_answered = list(&["--outcome", "answered", "--json"]);
    let calls: serde_json::Value = serde_json::from_str(&booked_or_answered).unwrap();
    assert_eq!(calls.as_array().unwrap().len(), 1, "{calls}");
    let call_id = calls[0]["call_id"].as_str().unwrap();
    let show = frontdesk(&["--database", &db, "calls", "show", call_id], "");
    assert!(show.status.success(), "{}", text(&show));

    assert_eq!(list(&["--caller", "0199"]).lines().count(), 2);
    assert_eq!(list(&["--since", "2026-06-02"]).lines().count(), 2);
    let wrong = frontdesk(
        &["--database", &db, "calls", "list", "--outcome", "happy"],
        "",
    );
    assert!(!wrong.status.success());
    assert!(text(&wrong).contains("hung_up"), "{}", text(&wrong));
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::io::{BufRead, BufReader, Read};
    // All caller scripts: far more output than a pipe holds, written one script at a time.
    let scripts: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/transcripts"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .map(|p| p.display().to_string())
            .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .arg("simulate")
        .args(&scripts)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    {
        // Like `| head -1`: one line, then the pipe closes.
        let mut reader = BufReader::with_capacity(1, child.stdout.take().unwrap());
        reader.read_line(&mut first).unwrap();
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    child.wait().unwrap();
    assert!(first.starts_with("== "), "{first}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

#[test]
fn seeding_twice_says_nothing_new_was_booked() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("seed.db").display());
    // How many demo visits fit depends on today's date (closed days are passed over).
    let first = text(&frontdesk(&["--database", &db, "seed"], ""));
    let booked = first.matches("booked: ").count();
    assert!(booked >= 1, "{first}");
    assert!(
        first.contains(&format!("seed: {booked} booked, 0 already there")),
        "{first}"
    );
    let second = text(&frontdesk(&["--database", &db, "seed"], ""));
    assert!(
        second.contains(&format!("seed: 0 booked, {booked} already there")),
        "{second}"
    );
    assert!(!second.contains("booked: "), "{second}");
}

#[test]
fn logs_to_a_pipe_have_no_colour_and_json_logs_are_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("logs.db").display());
    let plain = frontdesk(&["--database", &db, "-v", "seed"], "");
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(stderr.contains("INFO"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a pipe: {stderr:?}"
    );

    let json = frontdesk(
        &["--database", &db, "-v", "--log-format", "json", "seed"],
        "",
    );
    let stderr = String::from_utf8_lossy(&json.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty());
    for line in lines {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(event["level"].is_string(), "{line}");
    }
}

#[test]
fn an_unreachable_database_is_named_once_without_its_password() {
    // Port 1: nothing listens there.
    let output = frontdesk(
        &[
            "--database",
            "postgres://frontdesk:hunter2@127.0.0.1:1/calls",
            "calls",
            "show",
            "CA1",
        ],
        "",
    );
    let out = text(&output);
    assert!(!output.status.success(), "{out}");
    assert!(
        out.contains("cannot open the database postgres://frontdesk:***@127.0.0.1:1/calls"),
        "{out}"
    );
    assert!(!out.contains("hunter2"), "{out}");
    assert_eq!(out.matches("pool timed out").count(), 1, "{out}");
}
