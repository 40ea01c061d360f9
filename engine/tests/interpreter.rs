//! The interpreter on small flows written here, in memory: a message-taking flow with one tool,
//! stepped turn by turn with tool results given by hand. Nothing of the shipped business's flows
//! or of the application is needed, so these pin the engine's own behaviour: slots asked in
//! order, a tool called with rendered arguments, transitions on its result, global patterns
//! and intent from examples.

mod common;

use common::{now, said, spoken, transfer};
use frontdesk_engine::business::Business;
use frontdesk_engine::{
    CallInfo, Engine, Input, LoadErrors, Output, RuntimeLine, Session, SourceFile, Sources,
    ToolSpec,
};
use serde_json::{Value, json};

const GLOBALS: &str = r#"
greeting: greeting
menu: menu
not_understood: not_understood
human:
  keywords: [a person, operator]
  flow: handoff
cancel:
  keywords: [never mind]
  say: cancelled
repeat:
  keywords: [say that again]
goodbye:
  keywords: [bye, goodbye]
  say: goodbye
correction:
  keywords: [actually]
questions:
  flow: faq
  answer: answer
no_input:
  prompts: [no_input]
  hang_up_after: 2
  hang_up: no_input
no_match:
  say: no_match
  max_attempts: 2
  escalate: handoff
intent:
  min_confidence: 0.15
  clarify: clarify
"#;

const MESSAGE_FLOW: &str = r#"
flow: message
description: Take a message for the owner
triggers:
  - keywords: [leave a message, take a message]
    priority: 20
examples:
  - "can i leave a note for the owner"
  - "please pass something along to the boss"
  - "i want to leave word for whoever runs the place"
slots:
  name:  { type: person_name, description: Who the message is from }
  note:  { type: text, description: The message, rules: [{ min_length: 3 }] }
initial: ask_name
states:
  ask_name: { collect: name, say: ask_name, next: ask_note }
  ask_note: { collect: note, say: ask_note, next: save }
  save:
    tool: take_message
    args: { from: "{{ slots.name }}", text: "{{ slots.note }}", caller: "{{ call.caller }}" }
    transitions:
      - { if: result.error, to: failed }
      - { to: saved }
  saved:  { say: saved, end: answered }
  failed: { say: failed, handoff: human }
"#;

const HANDOFF_FLOW: &str = r#"
flow: handoff
description: A person
initial: transfer
states:
  transfer: { say: transfer, handoff: human }
"#;

const FAQ_FLOW: &str = r#"
flow: faq
description: Questions
examples:
  - "what are your hours"
  - "how much do you charge"
initial: route
states:
  route:
    transitions:
      - { if: vars.answer, to: answer }
      - { to: no_answer }
  answer:    { answer: answer, end: answered }
  no_answer: { say: no_answer, end: answered }
"#;

const PROMPTS: &[(&str, &str)] = &[
    ("greeting", "Hello, how can I help?"),
    ("menu", "I can take a message."),
    ("not_understood", "Sorry, what do you need?"),
    ("cancelled", "Okay, dropped."),
    ("goodbye", "Goodbye."),
    ("answer", "{{ vars.answer }}"),
    ("no_input", "Are you there?"),
    ("no_match", "Sorry, once more?"),
    ("clarify", "Which one: {{ choices | join(' or ') }}?"),
    ("ask_name", "Who is this?"),
    ("ask_note", "What should I tell them, {{ slots.name }}?"),
    ("saved", "Saved your message, {{ slots.name }}."),
    ("failed", "I couldn't save it; let me get someone."),
    ("transfer", "Connecting you."),
    ("no_answer", "I'm not sure."),
    ("failure/lost_call", "Lost you; connecting you."),
    ("failure/reconnected", "Lost you for a second."),
    ("failure/service_trouble", "Trouble here; connecting you."),
    ("failure/internal_error", "Something broke; connecting you."),
    ("failure/reconnected", "Lost you for a second."),
    (
        "failure/transfer_unanswered",
        "Nobody at {{ business.name }} could pick up.",
    ),
];

/// The three flows, with `message` as given, and every prompt.
fn load(message_flow: &str) -> Result<Engine, LoadErrors> {
    load_with(message_flow, PROMPTS)
}

fn load_with(message_flow: &str, prompts: &[(&str, &str)]) -> Result<Engine, LoadErrors> {
    load_all(GLOBALS, message_flow, prompts)
}

fn load_all(
    globals: &str,
    message_flow: &str,
    prompts: &[(&str, &str)],
) -> Result<Engine, LoadErrors> {
    let business = Business::from_yaml(include_str!("../../config/business.yaml")).unwrap();
    let file = |name: &str, text: &str| SourceFile::new(name.to_string(), text.to_string());
    Engine::load(Sources {
        business,
        globals: file("global.yaml", globals),
        flows: vec![
            file("message.yaml", message_flow),
            file("handoff.yaml", HANDOFF_FLOW),
            file("faq.yaml", FAQ_FLOW),
        ],
        prompts: prompts
            .iter()
            .map(|(name, text)| (name.to_string(), file(&format!("{name}.j2"), text)))
            .collect(),
        knowledge: Vec::new(),
        tools: vec![ToolSpec::new(
            "take_message",
            &["from", "text"],
            &["caller"],
        )],
    })
}

fn engine() -> Engine {
    load(MESSAGE_FLOW).unwrap_or_else(|e| panic!("{e}"))
}

fn greeted(engine: &Engine) -> Session {
    let mut s = engine.start(CallInfo {
        id: "CA-interpreter".into(),
        caller: Some("+12145550123".into()),
        called: None,
        customer: None,
    });
    let out = engine.step(&mut s, Input::Start, now()).unwrap();
    assert_eq!(spoken(&out), "Hello, how can I help?");
    s
}

/// Steps a caller through to the tool call and returns its name and arguments.
fn up_to_the_tool(engine: &Engine, s: &mut Session, opener: &str) -> (String, Value) {
    let out = engine.step(s, said(opener), now()).unwrap();
    assert_eq!(spoken(&out), "Who is this?", "{out:?}");
    let out = engine.step(s, said("maria lopez"), now()).unwrap();
    assert_eq!(
        spoken(&out),
        "What should I tell them, Maria Lopez?",
        "{out:?}"
    );
    let out = engine
        .step(s, said("the gate code changed to four four one two"), now())
        .unwrap();
    out.iter()
        .find_map(|o| match o {
            Output::CallTool { name, args } => Some((name.clone(), args.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no tool call in {out:?}"))
}

#[test]
fn a_keyword_starts_the_flow_and_the_tool_gets_rendered_arguments() {
    let engine = engine();
    let mut s = greeted(&engine);
    let (name, args) = up_to_the_tool(&engine, &mut s, "hi i'd like to leave a message");
    assert_eq!(name, "take_message");
    assert_eq!(args["from"], json!("Maria Lopez"));
    assert_eq!(
        args["text"],
        json!("the gate code changed to four four one two")
    );
    assert_eq!(args["caller"], json!("+12145550123"));
    assert_eq!(s.flow.as_deref(), Some("message"));

    let out = engine
        .step(
            &mut s,
            Input::ToolResult {
                value: json!({ "ok": true }),
            },
            now(),
        )
        .unwrap();
    assert_eq!(spoken(&out), "Saved your message, Maria Lopez.");
    assert_eq!(s.state, None, "the flow is over");
}

#[test]
fn examples_start_the_flow_without_its_keywords() {
    let engine = engine();
    let mut s = greeted(&engine);
    // Shares no keyword and no whole sentence with the flow.
    let (name, _) = up_to_the_tool(&engine, &mut s, "could i leave a note for the boss");
    assert_eq!(name, "take_message");
}

#[test]
fn a_failed_tool_takes_the_flows_failure_path() {
    let engine = engine();
    let mut s = greeted(&engine);
    up_to_the_tool(&engine, &mut s, "take a message please");
    let failed = json!({ "ok": false, "error": "storage" });
    let out = engine
        .step(&mut s, Input::ToolResult { value: failed }, now())
        .unwrap();
    assert!(spoken(&out).starts_with("I couldn't save it"), "{out:?}");
    assert!(transfer(&out).is_some(), "{out:?}");
}

#[test]
fn global_patterns_work_inside_the_flow() {
    let engine = engine();
    let mut s = greeted(&engine);
    engine
        .step(&mut s, said("i want to leave a message"), now())
        .unwrap();
    // A person, asked for in the middle of a slot.
    let out = engine.step(&mut s, said("operator"), now()).unwrap();
    assert_eq!(spoken(&out), "Connecting you.");
    assert!(transfer(&out).is_some(), "{out:?}");

    // Goodbye ends the call wherever it is said.
    let mut s = greeted(&engine);
    engine
        .step(&mut s, said("i want to leave a message"), now())
        .unwrap();
    let out = engine.step(&mut s, said("okay bye"), now()).unwrap();
    assert_eq!(spoken(&out), "Goodbye.");
    assert!(out.iter().any(|o| matches!(o, Output::Hangup)), "{out:?}");
}

#[test]
fn an_unusable_answer_is_asked_again_then_handed_to_a_person() {
    let engine = engine();
    let mut s = greeted(&engine);
    engine.step(&mut s, said("take a message"), now()).unwrap();
    engine.step(&mut s, said("maria lopez"), now()).unwrap();
    // A note shorter than its rule allows, twice (max_attempts: 2).
    let out = engine.step(&mut s, said("eh"), now()).unwrap();
    assert!(spoken(&out).contains("Sorry, once more?"), "{out:?}");
    let out = engine.step(&mut s, said("eh"), now()).unwrap();
    assert!(transfer(&out).is_some(), "{out:?}");
}

#[test]
fn errors_in_memory_flows_name_their_file_and_position() {
    let broken = MESSAGE_FLOW.replace("next: ask_note", "next: ask_nothing");
    let errors = load(&broken)
        .err()
        .expect("an unknown target state is a load error")
        .to_string();
    assert!(errors.contains("message.yaml:"), "{errors}");
    assert!(errors.contains("ask_nothing"), "{errors}");
}

#[test]
fn runtime_lines_are_prompts_of_the_business_and_required_at_load() {
    let engine = engine();
    assert_eq!(
        engine
            .runtime_line(RuntimeLine::TransferUnanswered)
            .unwrap(),
        format!("Nobody at {} could pick up.", engine.business().name)
    );
    assert_eq!(
        engine.runtime_line(RuntimeLine::LostCall).unwrap(),
        "Lost you; connecting you."
    );

    let without: Vec<(&str, &str)> = PROMPTS
        .iter()
        .copied()
        .filter(|(name, _)| *name != "failure/lost_call")
        .collect();
    let errors = load_with(MESSAGE_FLOW, &without)
        .err()
        .expect("a missing runtime line is a load error")
        .to_string();
    assert!(errors.contains("failure/lost_call"), "{errors}");
}

/// Every load error, as `file:line:column: message` lines.
fn load_errors(message_flow: &str) -> Vec<String> {
    match load(message_flow) {
        Ok(_) => panic!("expected load errors"),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

/// `(line, column)` of the first occurrence of `needle` in `text`, both from 1.
fn position(text: &str, needle: &str) -> (usize, usize) {
    text.lines()
        .enumerate()
        .find_map(|(i, l)| l.find(needle).map(|c| (i + 1, c + 1)))
        .unwrap_or_else(|| panic!("{needle:?} not in the flow"))
}

#[test]
fn a_misspelt_state_is_one_error_with_the_state_it_most_likely_means() {
    // The state is renamed where it is defined; the one state that goes to it is not changed.
    let broken = MESSAGE_FLOW.replace("  saved:  {", "  saaved: {");
    let errors = load_errors(&broken);
    let (line, column) = position(&broken, "to: saved }");
    assert_eq!(
        errors,
        [format!(
            "message.yaml:{line}:{}: state `saved` does not exist; did you mean `saaved`?",
            column + 4
        )],
        "the states it leads to are not unreachable on top of it"
    );

    // Renamed past recognition, the name that leads nowhere is still taken as the one state
    // nothing leads to.
    let renamed = MESSAGE_FLOW.replace("  failed: {", "  broken: {");
    let errors = load_errors(&renamed);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].ends_with(
            "state `failed` does not exist; did you mean `broken`, which nothing leads to?"
        ),
        "{errors:#?}"
    );
    // `save` is as close to `saved` as a misspelling, but other states lead to it already:
    // both are named.
    let errors = load_errors(&MESSAGE_FLOW.replace("  saved:  {", "  stored: {"));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].ends_with(
            "state `saved` does not exist; did you mean `save`, or `stored`, which nothing leads to?"
        ),
        "{errors:#?}"
    );
}

#[test]
fn an_unknown_key_and_a_missing_state_in_one_file_are_both_reported_and_nothing_else() {
    let broken = MESSAGE_FLOW
        .replace(
            "  saved:  { say: saved, end: answered }",
            "  saved:  { say: saved, colour: blue, end: answered }",
        )
        .replace("to: failed }", "to: faild }");
    assert_ne!(broken, MESSAGE_FLOW);
    let errors = load_errors(&broken);
    let (key_line, key_column) = position(&broken, "colour: blue");
    let (to_line, to_column) = position(&broken, "faild");
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with(&format!(
            "message.yaml:{to_line}:{to_column}: state `faild` does not exist; did you mean `failed`?"
        )),
        "{errors:#?}"
    );
    assert!(
        errors[1].starts_with(&format!(
            "message.yaml:{key_line}:{key_column}: unknown field `colour`, expected one of answer, say, collect"
        )),
        "{errors:#?}"
    );
    // The rest of the state was read: its end keeps it from being "a state with no way out".
    assert!(
        !errors.iter().any(|e| e.contains("no way out")),
        "{errors:#?}"
    );
}

#[test]
fn a_misspelt_key_leaves_no_errors_behind_it() {
    // `nxt` for `next`: the state is not "without a way out", and where it led still counts.
    let broken = MESSAGE_FLOW.replace(
        "say: ask_name, next: ask_note",
        "say: ask_name, nxt: ask_note",
    );
    assert_ne!(broken, MESSAGE_FLOW);
    let errors = load_errors(&broken);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("unknown field `nxt` (did you mean `next`?)"),
        "{errors:#?}"
    );
}

#[test]
fn a_renamed_slot_is_one_error_where_it_is_defined() {
    // `note` is collected by `ask_note` and read by the tool's `text` argument.
    let broken = MESSAGE_FLOW.replace("  note:  { type: text", "  notes: { type: text");
    let errors = load_errors(&broken);
    let (line, column) = position(&broken, "notes:");
    assert_eq!(
        errors,
        [format!(
            "message.yaml:{line}:{column}: slot `notes` is used nowhere, while `note`, used 2 times, is not defined; did you mean `note`?"
        )]
    );
    // One use misspelt is reported at that use.
    let broken = MESSAGE_FLOW.replace("{ collect: note,", "{ collect: nte,");
    let errors = load_errors(&broken);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].ends_with("slot `nte` is not defined in `slots`; did you mean `note`?"),
        "{errors:#?}"
    );
}

#[test]
fn a_file_that_cannot_be_read_does_not_make_its_flow_missing_elsewhere() {
    // The global patterns send people to `handoff`, whose file is broken YAML.
    let business = Business::from_yaml(include_str!("../../config/business.yaml")).unwrap();
    let file = |name: &str, text: &str| SourceFile::new(name.to_string(), text.to_string());
    let errors = Engine::load(Sources {
        business,
        globals: file("global.yaml", GLOBALS),
        flows: vec![
            file("message.yaml", MESSAGE_FLOW),
            file(
                "handoff.yaml",
                "flow: handoff\ndescription: \"A person\ninitial: x\n",
            ),
            file("faq.yaml", FAQ_FLOW),
        ],
        prompts: PROMPTS
            .iter()
            .map(|(name, text)| (name.to_string(), file(&format!("{name}.j2"), text)))
            .collect(),
        knowledge: Vec::new(),
        tools: vec![ToolSpec::new(
            "take_message",
            &["from", "text"],
            &["caller"],
        )],
    })
    .err()
    .expect("broken YAML is a load error");
    assert_eq!(errors.0.len(), 1, "{errors}");
    assert_eq!(errors.0[0].file, "handoff.yaml", "{errors}");
}

/// A callback flow whose read-back is a yes/no question that also takes a new time.
const CALLBACK_FLOW: &str = r#"
flow: callback
description: Book a call back
triggers:
  - keywords: [call me back]
    priority: 20
slots:
  when:    { type: datetime, rules: [future] }
  confirm: { type: yes_no }
initial: ask_when
states:
  ask_when: { collect: when, say: ask_when, next: confirm }
  confirm:
    say: confirm_call
    reprompt: confirm_call_again
    collect: confirm
    also_collect: { when: confirm }
    transitions:
      - { if: slots.confirm, to: done }
      - { to: done }
  done: { say: call_booked, end: answered }
"#;

fn callback_engine(flow: &str) -> Engine {
    let globals = GLOBALS.replace(
        "  say: no_match\n",
        "  say: no_match\n  yes_no: yes_or_no\n",
    );
    let mut prompts = PROMPTS.to_vec();
    prompts.extend([
        ("ask_when", "When should we call you?"),
        (
            "confirm_call",
            "We'll call you {{ slots.when.date }} at {{ slots.when.time }}. Is that right?",
        ),
        ("confirm_call_again", "Is {{ slots.when.time }} right?"),
        ("yes_or_no", "Was that a yes or a no?"),
        ("call_booked", "We'll call you then."),
    ]);
    load_all(&globals, flow, &prompts).unwrap_or_else(|e| panic!("{e}"))
}

/// Greeted, asked for a call back tomorrow at ten, and at the read-back.
fn at_the_read_back(engine: &Engine) -> Session {
    let mut s = engine.start(CallInfo {
        id: "CA-callback".into(),
        caller: Some("+12145550123".into()),
        called: None,
        customer: None,
    });
    engine.step(&mut s, Input::Start, now()).unwrap();
    let out = engine
        .step(&mut s, said("please call me back"), now())
        .unwrap();
    assert_eq!(spoken(&out), "When should we call you?");
    let out = engine.step(&mut s, said("tomorrow at ten"), now()).unwrap();
    assert_eq!(
        spoken(&out),
        "We'll call you 2026-06-02 at 10:00. Is that right?"
    );
    s
}

#[test]
fn a_time_said_to_a_read_back_that_also_collects_it_is_the_new_time() {
    let engine = callback_engine(CALLBACK_FLOW);
    let mut s = at_the_read_back(&engine);
    // A bare hour is a time here, as if the time were asked.
    let out = engine.step(&mut s, said("3"), now()).unwrap();
    assert_eq!(
        spoken(&out),
        "We'll call you 2026-06-02 at 15:00. Is that right?"
    );
    assert_eq!(s.slot("confirm"), None, "{:?}", s.slots);
    let out = engine.step(&mut s, said("yes"), now()).unwrap();
    assert_eq!(spoken(&out), "We'll call you then.");

    // Without `also_collect` the same "3" is no answer to the question.
    let engine =
        callback_engine(&CALLBACK_FLOW.replace("    also_collect: { when: confirm }\n", ""));
    let mut s = at_the_read_back(&engine);
    let out = engine.step(&mut s, said("3"), now()).unwrap();
    assert_eq!(spoken(&out), "Was that a yes or a no? Is 10:00 right?");
}

#[test]
fn a_yes_no_question_that_got_neither_asks_for_a_yes_or_a_no_in_other_words() {
    let engine = callback_engine(CALLBACK_FLOW);
    let mut s = at_the_read_back(&engine);
    let out = engine.step(&mut s, said("i like pizza"), now()).unwrap();
    assert_eq!(spoken(&out), "Was that a yes or a no? Is 10:00 right?");
    // A "no" with a time is a correction, as before: the new time, read back in full.
    let out = engine.step(&mut s, said("no make it four"), now()).unwrap();
    assert_eq!(
        spoken(&out),
        "We'll call you 2026-06-02 at 16:00. Is that right?"
    );
}

#[test]
fn also_collect_is_checked_at_load() {
    let errors = load_errors(&MESSAGE_FLOW.replace(
        "  ask_note: { collect: note, say: ask_note, next: save }",
        "  ask_note: { collect: note, say: ask_note, next: save, also_collect: { nme: sav } }",
    ));
    let joined = errors.join("\n");
    assert!(
        joined
            .contains("`also_collect`: slot `nme` is not defined in `slots`; did you mean `name`?"),
        "{joined}"
    );
    assert!(
        joined.contains("state `sav` does not exist; did you mean `save`?"),
        "{joined}"
    );
    assert!(
        joined.contains("`also_collect` is for a yes/no question"),
        "{joined}"
    );
    assert_eq!(errors.len(), 3, "{joined}");
}

/// A call the business places: it opens in its own flow, and a `link` hands the caller to
/// another flow with their last words.
const CHECK_IN_FLOW: &str = r#"
flow: check_in
description: The business calls to check a visit is still wanted
slots:
  keep: { type: yes_no }
initial: ask
states:
  ask:
    collect: keep
    say: check_in
    transitions:
      - { if: slots.keep, to: kept }
      - { to: to_message }
  kept: { say: kept, end: answered }
  to_message: { link: message }
"#;

fn check_in_engine() -> Engine {
    let prompts: Vec<(&str, &str)> = PROMPTS
        .iter()
        .copied()
        .chain([
            (
                "check_in",
                "Hi {{ vars.visit.name }}, still on for tomorrow?",
            ),
            ("kept", "See you then."),
        ])
        .collect();
    let business = Business::from_yaml(include_str!("../../config/business.yaml")).unwrap();
    let file = |name: &str, text: &str| SourceFile::new(name.to_string(), text.to_string());
    Engine::load(Sources {
        business,
        globals: file("global.yaml", GLOBALS),
        flows: vec![
            file("message.yaml", MESSAGE_FLOW),
            file("handoff.yaml", HANDOFF_FLOW),
            file("faq.yaml", FAQ_FLOW),
            file("check_in.yaml", CHECK_IN_FLOW),
        ],
        prompts: prompts
            .iter()
            .map(|(name, text)| (name.to_string(), file(&format!("{name}.j2"), text)))
            .collect(),
        knowledge: Vec::new(),
        tools: vec![ToolSpec::new(
            "take_message",
            &["from", "text"],
            &["caller"],
        )],
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn checked_in(engine: &Engine) -> Session {
    let call = CallInfo {
        id: "CA-check-in".into(),
        caller: Some("+12145550123".into()),
        called: None,
        customer: None,
    };
    let vars = [("visit".to_string(), json!({ "name": "Maria" }))].into();
    let mut s = engine.start_in(call, "check_in", vars).unwrap();
    let out = engine.step(&mut s, Input::Start, now()).unwrap();
    assert_eq!(spoken(&out), "Hi Maria, still on for tomorrow?", "{out:?}");
    s
}

#[test]
fn a_call_started_in_a_flow_opens_there_and_a_link_goes_on_in_another() {
    let engine = check_in_engine();
    let mut s = checked_in(&engine);
    let out = engine.step(&mut s, said("yes"), now()).unwrap();
    assert_eq!(spoken(&out), "See you then.", "{out:?}");

    let mut s = checked_in(&engine);
    let out = engine.step(&mut s, said("no"), now()).unwrap();
    assert_eq!(spoken(&out), "Who is this?", "{out:?}");
    assert_eq!(s.flow.as_deref(), Some("message"));

    let unknown = CallInfo {
        id: "CA-x".into(),
        caller: None,
        called: None,
        customer: None,
    };
    assert!(
        engine
            .start_in(unknown, "nope", Default::default())
            .is_err()
    );
}

#[test]
fn a_link_to_a_flow_that_does_not_exist_is_a_load_error() {
    let flow = MESSAGE_FLOW.replace(
        "failed: { say: failed, handoff: human }",
        "failed: { say: failed, link: mesage }",
    );
    let errors = load_errors(&flow);
    assert!(
        errors.iter().any(
            |e| e.contains("links to flow `mesage`, which does not exist") && e.contains("message")
        ),
        "{errors:?}"
    );
}
