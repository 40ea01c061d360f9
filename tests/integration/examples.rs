//! The example businesses through the real binary on a real SQLite file: returning customers
//! seeded by `seed --customers` are greeted with their car and a new car is remembered (auto
//! repair), and a call's urgency level is recorded and listed (handyman).

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn frontdesk(project: &str, db: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["--project", project, "--database", db])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

const AUTO: &str = "examples/auto-repair";
const HANDY: &str = "examples/handyman";

#[test]
fn seeded_customers_are_greeted_with_their_car_and_a_new_car_is_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("auto.db").display());
    let seeded = frontdesk(AUTO, &db, &["seed", "--customers", "500"], "");
    let out = text(&seeded);
    assert!(seeded.status.success(), "{out}");
    assert!(out.contains("seed: 500 customers with "), "{out}");
    // Seeding the same number again writes the same customers: nothing new.
    let again = frontdesk(AUTO, &db, &["seed", "--customers", "500"], "");
    assert!(
        text(&again).contains("seed: 500 customers with "),
        "{}",
        text(&again)
    );

    // The first seeded customer: a 555 number in the shop's area code.
    let caller = "+13035550000";
    let chat = |lines: &str| {
        let out = frontdesk(
            AUTO,
            &db,
            &["chat", "--now", "2026-06-01T09:12", "--caller", caller],
            lines,
        );
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
    };
    let first = chat(
        "i need an oil change\nno its a different car\ntwenty twenty two toyota rav four\nwednesday at ten\nyes\n",
    );
    assert!(first.contains("agent: Hi "), "{first}");
    assert!(first.contains("Is this for the 20"), "{first}");
    assert!(first.contains("(call ended: booked;"), "{first}");
    assert!(!first.contains("first and last name"), "{first}");

    // The next call from that number is asked about the car it just brought.
    let second = chat("i need my tires rotated\nyes\nthursday at ten\nyes\n");
    assert!(
        second.contains("Is this for the 2022 Toyota RAV4?"),
        "{second}"
    );
    assert!(second.contains("(call ended: booked;"), "{second}");
}

#[test]
fn a_calls_urgency_level_is_recorded_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("handy.db").display());
    let chat = |caller: &str, lines: &str| {
        let out = frontdesk(
            HANDY,
            &db,
            &["chat", "--now", "2026-06-01T09:12", "--caller", caller],
            lines,
        );
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
    };
    let burst = chat(
        "+17575550123",
        "a pipe burst under the sink and theres water everywhere\nsam turner\nnorfolk\nyes\n",
    );
    assert!(burst.contains("(call ended: booked;"), "{burst}");
    let faucet = chat(
        "+17575550124",
        "my bathroom faucet drips can someone fix it\njo park\nhampton\nthursday at ten\nyes\n",
    );
    assert!(faucet.contains("(call ended: booked;"), "{faucet}");

    let list = frontdesk(HANDY, &db, &["calls", "list"], "");
    let table = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(list.status.success(), "{}", text(&list));
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].ends_with("URGENCY"), "{table}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("+17575550123") && l.ends_with("high")),
        "{table}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("+17575550124") && l.ends_with("routine")),
        "{table}"
    );

    let json = frontdesk(HANDY, &db, &["calls", "list", "--json"], "");
    let calls: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let levels: Vec<&str> = calls
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["urgency"].as_str())
        .collect();
    assert_eq!(levels.len(), 2, "{calls}");
    assert!(
        levels.contains(&"high") && levels.contains(&"routine"),
        "{calls}"
    );
}
