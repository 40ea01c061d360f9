//! `frontdesk flows check` on the shipped flows and on a copy with planted errors: every error
//! is reported, each at the right line and column, and the command fails.

use std::fs;
use std::path::Path;
use std::process::Command;

use frontdesk::project::{ProjectError, ProjectPaths, load_engine};
use frontdesk::tools;

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn project_copy() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    for part in ["flows", "prompts", "knowledge", "config"] {
        copy_dir(&root.join(part), &dir.path().join(part));
    }
    dir
}

#[test]
fn shipped_flows_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["flows", "check"])
        .current_dir(root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("ok: 8 flows"), "{stdout}");
}

#[test]
fn each_example_business_passes_flows_check_from_its_own_folder() {
    for example in crate::twilio_gather::Project::examples() {
        let root = example.root();
        let flows = fs::read_dir(root.join("flows"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                name.ends_with(".yaml") && name != "global.yaml"
            })
            .count();
        let output = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
            .args(["--project", &root.to_string_lossy(), "flows", "check"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{}: {stdout}{}",
            root.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout.starts_with(&format!("ok: {flows} flows")),
            "{}: {stdout}",
            root.display()
        );
    }
}

const BROKEN_FLOW: &str = r#"# yaml-language-server: $schema=../schema/flow.schema.json
flow: broken
description: A flow with one of every mistake
slots:
  name: { type: person_name }
  choice: { type: choice }
initial: ask_name
states:
  ask_name:
    collect: nmae
    say: common/ask_name
    next: check
  check:
    tool: book_everything
    transitions:
      - if: "result.ok and"
        to: done
      - to: nowhere
  done:
    say: broken/missing_prompt
    end: booked
  orphan:
    say: common/ask_name
    next: loop_a
  loop_a:
    say: "{{ slots.nope }}"
    next: loop_b
  loop_b:
    next: loop_a
  unknown_key_here:
    sya: hello
    end: booked
"#;

#[test]
fn planted_errors_are_all_reported_with_positions() {
    let dir = project_copy();
    fs::write(dir.path().join("flows/broken.yaml"), BROKEN_FLOW).unwrap();
    // A second broken file: a template syntax error in a prompt.
    fs::write(
        dir.path().join("prompts/common/broken.j2"),
        "Hello {{ business.name \n",
    )
    .unwrap();

    // An unknown key is reported and the rest of its file is checked as if it were not there.
    let paths = ProjectPaths::at_root(dir.path());
    let Err(ProjectError::Invalid(errors)) = load_engine(&paths, tools::catalog()) else {
        panic!("expected load errors");
    };
    let lines: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
    let expected = [
        "prompts/common/broken.j2:1:1: template error",
        "flows/broken.yaml:6:3: choice slot `choice` needs `options`",
        "flows/broken.yaml:10:14: slot `nmae` is not defined in `slots`; did you mean `name`?",
        "flows/broken.yaml:14:11: tool `book_everything` does not exist",
        "flows/broken.yaml:16:13: condition `result.ok and`: syntax error",
        "flows/broken.yaml:18:13: state `nowhere` does not exist",
        "flows/broken.yaml:20:10: prompt `broken/missing_prompt` does not exist",
        "flows/broken.yaml:22:3: state `orphan` cannot be reached from `ask_name`",
        "flows/broken.yaml:25:3: state `loop_a` cannot be reached",
        "flows/broken.yaml:26:10: prompt `{{ slots.nope }}` does not exist",
        "flows/broken.yaml:28:3: state `loop_b` cannot be reached",
        "flows/broken.yaml:30:3: state `unknown_key_here` cannot be reached",
        "flows/broken.yaml:31:5: unknown field `sya` (did you mean `say`?), expected one of",
    ];
    for want in expected {
        assert!(
            lines.iter().any(|l| l.contains(want)),
            "missing {want:?} in:\n{}",
            lines.join("\n")
        );
    }
    assert_eq!(lines.len(), expected.len(), "{}", lines.join("\n"));

    // The command prints the same lines and exits non-zero.
    let output = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["flows", "check"])
        .arg(dir.path().join("flows"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("broken.yaml:18:13: state `nowhere` does not exist"),
        "{stdout}"
    );
}

#[test]
fn states_that_cannot_end_are_reported() {
    let dir = project_copy();
    fs::write(
        dir.path().join("flows/stuck.yaml"),
        "flow: stuck\ndescription: never ends\ninitial: a\nstates:\n  a:\n    say: common/ask_name\n    next: b\n  b:\n    say: common/ask_name\n    next: a\n",
    )
    .unwrap();
    let Err(ProjectError::Invalid(errors)) =
        load_engine(&ProjectPaths::at_root(dir.path()), tools::catalog())
    else {
        panic!("expected load errors");
    };
    let lines: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("stuck.yaml:5:3: no end can be reached from state `a`")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("stuck.yaml:8:3: no end can be reached from state `b`")),
        "{lines:#?}"
    );
}

#[test]
fn a_broken_template_in_a_tool_argument_is_a_load_error_at_the_argument() {
    let dir = project_copy();
    let booking = dir.path().join("flows/booking.yaml");
    let text = fs::read_to_string(&booking).unwrap();
    let broken = text.replacen(
        r#"location: "{{ slots.location.code }}""#,
        r#"location: "{{ slots.location.code }""#,
        1,
    );
    assert_ne!(broken, text, "the planted error must land");
    fs::write(&booking, &broken).unwrap();
    let (line, column) = broken
        .lines()
        .enumerate()
        .find_map(|(i, l)| {
            l.find("location: \"{{ slots.location.code }\"")
                .map(|c| (i + 1, c + 1))
        })
        .unwrap();
    let Err(ProjectError::Invalid(errors)) =
        load_engine(&ProjectPaths::at_root(dir.path()), tools::catalog())
    else {
        panic!("a broken argument template must not load");
    };
    let lines: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
    let at = format!("booking.yaml:{line}:{column}: tool argument");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&at) && l.contains("syntax error")),
        "{at} in {lines:#?}"
    );
}

/// `flows check` on a copy whose business file has `edit` applied: its first error line.
/// The line of the project's `config/business.yaml` where `text` first appears.
fn line_of(text: &str) -> usize {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/business.yaml");
    let source = fs::read_to_string(config).unwrap();
    source.lines().position(|l| l.contains(text)).unwrap() + 1
}

fn business_error(from: &str, to: &str) -> String {
    let dir = project_copy();
    let path = dir.path().join("config/business.yaml");
    let text = fs::read_to_string(&path).unwrap();
    let planted = text.replacen(from, to, 1);
    assert_ne!(planted, text, "the planted error must land: {from}");
    fs::write(&path, planted).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["--project", &dir.path().to_string_lossy(), "flows", "check"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    format!("{stdout}{stderr}")
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn business_files_that_parse_but_cannot_work_are_errors_at_their_place() {
    let line = business_error("code: FTW", "code: dal");
    assert!(
        line.ends_with("business.yaml:9:11: location code `dal` is used twice (first as `DAL`)"),
        "{line}"
    );
    let line = business_error(
        "[arlington texas, arlington tx]",
        "[arlington texas, Big D]",
    );
    assert!(line.contains("business.yaml:14:"), "{line}");
    assert!(
        line.contains("`Big D` already names location DAL"),
        "{line}"
    );
    let line = business_error("America/Chicago", "America/Dalas");
    assert!(
        line.ends_with("business.yaml:4:12: unknown time zone `America/Dalas`: use an IANA name such as America/Chicago"),
        "{line}"
    );
    let line = business_error(
        r#"saturday,  open: "08:00", close: "12:00""#,
        r#"saturday,  open: "12:00", close: "08:00""#,
    );
    assert!(
        line.contains("business.yaml:21:")
            && line.ends_with(
                "saturday closes at 08:00 but opens at 12:00: closing must be after opening"
            ),
        "{line}"
    );
    let line = business_error("service_fee: 89", "service_fee: eighty-nine");
    let fee_line = line_of("service_fee:");
    assert!(
        line.contains(&format!(
            "business.yaml:{fee_line}:14: service_fee \"eighty-nine\" is not a whole number of dollars"
        )),
        "{line}"
    );
}

#[test]
fn outside_a_project_the_error_names_the_folder_and_project_flag() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["flows", "check"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no Frontdesk project in"), "{stderr}");
    assert!(stderr.contains("--project DIR"), "{stderr}");
}

const BROKEN_HAZARDS: &str = r#"# yaml-language-server: $schema=../schema/flow.schema.json
flow: alarms
description: Hazards that name concepts nobody defined
requires: [talking_thing]
examples:
  - "i need to cancel my appointment"
hazards:
  smoke_alarm:
    when:
      - [alarm_thing, noise_thing]
    check: alarms/missing_check
concepts:
  alarm_thing: [alarm*]
  odor: [smell*]
initial: done
states:
  done: { say: common/ask_name, end: abandoned }
"#;

#[test]
fn hazards_concepts_and_examples_are_checked_too() {
    let dir = project_copy();
    fs::write(dir.path().join("flows/alarms.yaml"), BROKEN_HAZARDS).unwrap();
    let paths = ProjectPaths::at_root(dir.path());
    let Err(ProjectError::Invalid(errors)) = load_engine(&paths, tools::catalog()) else {
        panic!("expected load errors");
    };
    let lines: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
    for want in [
        "flows/alarms.yaml:11:12: prompt `alarms/missing_check` does not exist",
        "flows/alarms.yaml:8:3: unknown concept `noise_thing`",
        "flows/alarms.yaml:4:12: requires: unknown concept `talking_thing`",
        "concept `odor` is defined twice (first at ",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(want)),
            "missing {want:?} in:\n{}",
            lines.join("\n")
        );
    }

    // Fixed, the same example under two flows is reported by `flows check`.
    let fixed = BROKEN_HAZARDS
        .replace("requires: [talking_thing]\n", "")
        .replace("noise_thing]", "odor_again]")
        .replace("  odor: [smell*]", "  odor_again: [smell*]")
        .replace("    check: alarms/missing_check\n", "");
    fs::write(dir.path().join("flows/alarms.yaml"), fixed).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["flows", "check"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("example \"i need to cancel my appointment\"")
            && stdout.contains("reads like"),
        "{stdout}"
    );
}

/// `flows check` on a copy of the project with `edits` (file, from, to) applied: its stdout
/// lines, without the copy's folder in front.
fn check_lines(edits: &[(&str, &str, &str)]) -> Vec<String> {
    let dir = project_copy();
    for (file, from, to) in edits {
        let path = dir.path().join(file);
        let text = fs::read_to_string(&path).unwrap();
        let planted = text.replacen(from, to, 1);
        assert_ne!(planted, text, "the planted error must land: {from}");
        fs::write(&path, planted).unwrap();
    }
    let output = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["--project", &dir.path().to_string_lossy(), "flows", "check"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let prefix = format!("{}/", dir.path().display());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| l.trim_start_matches(&prefix).to_string())
        .collect()
}

#[test]
fn a_misspelt_state_in_the_booking_flow_is_one_line_with_a_suggestion() {
    let lines = check_lines(&[(
        "flows/booking.yaml",
        "  confirm:\n    say: booking/confirm",
        "  confirmm:\n    say: booking/confirm",
    )]);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("flows/booking.yaml:")
            && lines[0].ends_with(": state `confirm` does not exist; did you mean `confirmm`?"),
        "{lines:#?}"
    );
}

#[test]
fn an_unknown_key_does_not_hide_the_other_errors_of_its_file() {
    let lines = check_lines(&[
        (
            "flows/booking.yaml",
            "  confirm:\n    say: booking/confirm",
            "  confirm:\n    colour: blue\n    say: booking/confirm",
        ),
        ("flows/booking.yaml", "to: no_openings", "to: no_openingz"),
    ]);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines.iter().any(
            |l| l.contains(": state `no_openingz` does not exist; did you mean `no_openings`?")
        ),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(
            |l| l.contains(":5: unknown field `colour`, expected one of answer, say, collect,")
        ),
        "{lines:#?}"
    );
}

#[test]
fn a_flow_file_that_is_not_yaml_is_one_error_and_its_flow_still_exists() {
    // global.yaml names `booking` (clarify_between) and `handoff` (a person, escalation).
    for file in ["flows/booking.yaml", "flows/handoff.yaml"] {
        let lines = check_lines(&[(file, "description: ", "description: \"")]);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert!(lines[0].starts_with(file), "{lines:#?}");
    }
}
