use super::terms::{content_words, stem};
use super::*;
use crate::extract::normalize::normalize;

/// The business's real knowledge files, so these tests fail if an edit breaks an answer.
fn real() -> KnowledgeBase {
    let files = [
        (
            "business.md",
            include_str!("../../../knowledge/business.md"),
        ),
        (
            "services.md",
            include_str!("../../../knowledge/services.md"),
        ),
        (
            "troubleshooting.md",
            include_str!("../../../knowledge/troubleshooting.md"),
        ),
    ];
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(n, c)| (n.to_string(), c.to_string()))
        .collect();
    match KnowledgeBase::from_markdown(&files) {
        Ok(kb) => kb,
        Err(e) => panic!("knowledge files must load: {e}"),
    }
}

fn top(kb: &KnowledgeBase, q: &str) -> Option<String> {
    kb.search(&normalize(q), 3)
        .first()
        .map(|(e, _)| e.id.clone())
}

#[test]
fn parses_sections_keywords_asks_and_markdown() {
    let md = "# Title\nignored intro\n\n\
              ## Opening Hours!\nkeywords: hours, open\nasks: when do you open\n\
              Asks: any chance youre open sunday\n\n\
              We're open\n  *Monday*  to   Friday.\nasks: this line is spoken\n\n\
              ## Where [we are](https://x.y)\n- Dallas and\n- Fort Worth.\n";
    let kb = match KnowledgeBase::from_markdown(&[("biz.md".into(), md.into())]) {
        Ok(kb) => kb,
        Err(e) => panic!("{e}"),
    };
    let e = kb.entries();
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].id, "biz/opening-hours");
    assert_eq!(e[0].source, "biz.md");
    assert_eq!(e[0].title, "Opening Hours!");
    assert_eq!(
        e[0].text,
        "We're open Monday to Friday. asks: this line is spoken"
    );
    assert_eq!(
        e[0].asks,
        ["when do you open", "any chance youre open sunday"]
    );
    assert_eq!(e[1].id, "biz/where-we-are-https-x-y");
    assert_eq!(e[1].text, "Dallas and Fort Worth.");
    assert!(e[1].asks.is_empty());
}

#[test]
fn rejects_unusable_files() {
    let one =
        |name: &str, md: &str| KnowledgeBase::from_markdown(&[(name.to_string(), md.to_string())]);
    assert!(matches!(
        one("empty.md", "# Just a title\nno sections"),
        Err(KnowledgeError::NoSections { file }) if file == "empty.md"
    ));
    assert!(matches!(
        one("a.md", "## Hours\nkeywords: x\nasks: when do you open\n\n"),
        Err(KnowledgeError::EmptySection { heading, .. }) if heading == "Hours"
    ));
    assert!(matches!(
        one("a.md", "## Hours\nOpen.\n## hours\nClosed."),
        Err(KnowledgeError::DuplicateId { id }) if id == "a/hours"
    ));
}

#[test]
fn real_files_load_and_every_section_has_keywords_and_asks() {
    let kb = real();
    assert!(kb.entries().len() >= 18);
    for e in kb.entries() {
        assert!(!e.text.to_lowercase().contains("keywords:"), "{}", e.id);
        assert!(!e.text.to_lowercase().contains("asks:"), "{}", e.id);
        assert!(e.text.len() < 400, "{} is too long to speak", e.id);
        assert!(e.asks.len() >= 4, "{} needs example questions", e.id);
    }
    let keyword_lines = [
        include_str!("../../../knowledge/business.md"),
        include_str!("../../../knowledge/services.md"),
        include_str!("../../../knowledge/troubleshooting.md"),
    ]
    .iter()
    .map(|f| f.matches("\nkeywords:").count())
    .sum::<usize>();
    assert_eq!(keyword_lines, kb.entries().len());
}

/// Labelled questions from `calibration.txt`: (expected entry id or None, question).
fn calibration_set() -> Vec<(Option<&'static str>, &'static str)> {
    include_str!("calibration.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" | "))
        .map(|(want, q)| ((want != "none").then_some(want), q))
        .collect()
}

/// Precision and recall of the top answer over the labelled set, and how often a question
/// nothing answers finds nothing. Floors, not targets: they catch a change that makes search
/// answer the wrong question or stop admitting it has no answer.
#[test]
fn calibration() {
    let kb = real();
    let set = calibration_set();
    let (mut correct, mut wrong, mut missed, mut none_right, mut none_answered) = (0, 0, 0, 0, 0);
    for (want, q) in &set {
        let got = kb.search(&normalize(q), 1);
        let got = got.first().map(|(e, s)| (e.id.as_str(), *s));
        match (want, got) {
            (None, None) => none_right += 1,
            (None, Some((id, s))) => {
                none_answered += 1;
                println!("answered, should not: {q:?} -> {id} {s:.2}");
            }
            (Some(_), None) => {
                missed += 1;
                println!("no answer: {q:?} (want {})", want.unwrap_or_default());
            }
            (Some(w), Some((id, _))) if id == *w => correct += 1,
            (Some(w), Some((id, s))) => {
                wrong += 1;
                println!("wrong: {q:?} -> {id} {s:.2} (want {w})");
            }
        }
    }
    let answerable = correct + wrong + missed;
    let unanswerable = none_right + none_answered;
    let precision = correct as f32 / (correct + wrong + none_answered).max(1) as f32;
    let recall = correct as f32 / answerable.max(1) as f32;
    let no_answer = none_right as f32 / unanswerable.max(1) as f32;
    println!(
        "calibration: {answerable} answerable ({correct} right, {wrong} wrong, {missed} \
         unanswered), {unanswerable} unanswerable ({none_right} found nothing); top-answer \
         precision {precision:.3}, recall {recall:.3}, no-answer accuracy {no_answer:.3}"
    );
    assert!(
        answerable >= 100 && unanswerable >= 35,
        "the set must stay large"
    );
    assert!(precision >= 0.93, "precision {precision:.3}");
    assert!(recall >= 0.90, "recall {recall:.3}");
    assert!(no_answer >= 0.88, "no-answer accuracy {no_answer:.3}");
}

#[test]
fn callers_questions_find_the_right_answer() {
    let kb = real();
    let cases = [
        ("what are your hours", "business/opening-hours"),
        ("are you open saturday", "business/opening-hours"),
        ("uh what time do you close today", "business/opening-hours"),
        ("how much is a visit", "business/service-call-fee"),
        (
            "how much do you charge to come out",
            "business/service-call-fee",
        ),
        // "come out" alone must not steer a price question to the service area.
        (
            "what do you charge just to come out and look at it",
            "business/service-call-fee",
        ),
        ("can i put the bill on my visa", "business/payment"),
        ("do you service heat pumps", "services/heat-pumps"),
        (
            "do you guys work on furnaces",
            "services/heating-and-furnaces",
        ),
        ("do you do duct cleaning", "services/duct-work"),
        (
            "is it normal that my ac freezes up",
            "troubleshooting/ac-freezing-up",
        ),
        ("theres ice on the coils", "troubleshooting/ac-freezing-up"),
        (
            "my a c is blowing warm air",
            "troubleshooting/ac-not-cooling",
        ),
        (
            "the furnace is making a banging noise",
            "troubleshooting/strange-noises",
        ),
        (
            "why is my electric bill so high",
            "troubleshooting/high-energy-bills",
        ),
        (
            "my thermostat screen is blank",
            "troubleshooting/thermostat-problems",
        ),
        (
            "do you cover arlington",
            "business/service-area-and-locations",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(q, want)| top(&kb, q).as_deref() != Some(*want))
        .map(|(q, want)| {
            format!(
                "{q:?}: got {:?}, want {want}",
                kb.search(&normalize(q), 3)
                    .iter()
                    .map(|(e, s)| (e.id.as_str(), *s))
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn unrelated_questions_find_nothing() {
    let kb = real();
    for q in [
        "whats the weather like",
        "do you sell pizza",
        "yes",
        "",
        "um what",
        "not",
        "no no no",
        "one two three",
    ] {
        assert_eq!(kb.search(&normalize(q), 3).len(), 0, "{q}");
    }
}

#[test]
fn negations_do_not_steer() {
    let kb = real();
    // A stray "not" is no evidence for the "not cooling" tips.
    assert_eq!(
        top(&kb, "im not sure if you guys do heat pumps").as_deref(),
        Some("services/heat-pumps")
    );
    assert_eq!(
        top(&kb, "do you take cards or not").as_deref(),
        Some("business/payment")
    );
    // Every way of saying a thing does not cool meets the same passage.
    for q in [
        "the ac wont cool",
        "my ac isnt cooling the house",
        "the air conditioner doesnt cool anymore",
    ] {
        assert_eq!(
            top(&kb, q).as_deref(),
            Some("troubleshooting/ac-not-cooling"),
            "{q}"
        );
    }
}

#[test]
fn numbers_do_not_match_spelled_out_phone_numbers() {
    let kb = real();
    // The person and emergency passages spell their phone numbers digit by digit.
    for q in [
        "is a one and a half ton unit enough for a small house",
        "can you do two oclock or three",
        "four five six",
    ] {
        let hits = kb.search(&normalize(q), 3);
        assert!(
            hits.iter()
                .all(|(e, _)| e.id != "business/talking-to-a-person"
                    && e.id != "business/emergencies"),
            "{q}: {:?}",
            hits.iter().map(|(e, _)| &e.id).collect::<Vec<_>>()
        );
    }
}

#[test]
fn example_questions_and_word_pairs_carry_paraphrases() {
    let md = "## Trip fee\nkeywords: fee\nasks: what do you charge to come out\n\nIt is $50.\n\n\
              ## Area\nkeywords: area, come out\nasks: do you come out to my town\n\n\
              We cover the county.\n";
    let kb = match KnowledgeBase::from_markdown(&[("biz.md".into(), md.into())]) {
        Ok(kb) => kb,
        Err(e) => panic!("{e}"),
    };
    let top = |q: &str| {
        kb.search(&normalize(q), 1)
            .first()
            .map(|(e, _)| e.id.clone())
    };
    assert_eq!(
        top("how much do yall charge to come out here").as_deref(),
        Some("biz/trip-fee")
    );
    assert_eq!(
        top("do you come out as far as my town").as_deref(),
        Some("biz/area")
    );
}

#[test]
fn unknown_words_read_as_the_closest_known_spelling() {
    let kb = real();
    assert_eq!(
        top(&kb, "do you work on furnaces").as_deref(),
        top(&kb, "do you work on furnances").as_deref()
    );
    assert_eq!(
        top(&kb, "my thermastat is blank").as_deref(),
        Some("troubleshooting/thermostat-problems")
    );
    assert_eq!(
        top(&kb, "do you charge to diagnose it").as_deref(),
        Some("business/service-call-fee")
    );
    // Ending like a known word is not being spelled like it.
    assert_eq!(top(&kb, "do you sweep out fireplaces").as_deref(), None);
}

#[test]
fn a_word_the_knowledge_never_uses_leaves_the_question_unanswered() {
    let kb = real();
    // Each shares a word with some passage, but what it asks about is not in the knowledge.
    for q in [
        "do you give discounts to teachers",
        "are you hiring right now",
        "do you do plumbing",
        "can i buy a gift certificate",
    ] {
        let hits = kb.search(&normalize(q), 3);
        assert!(
            hits.is_empty(),
            "{q}: {:?}",
            hits.iter().map(|(e, s)| (&e.id, *s)).collect::<Vec<_>>()
        );
    }
}

#[test]
fn results_are_sorted_limited_and_above_threshold() {
    let kb = real();
    let hits = kb.search("ac not cooling noise thermostat", 2);
    assert_eq!(hits.len(), 2);
    assert!(hits[0].1 >= hits[1].1);
    assert!(hits.iter().all(|(_, s)| *s > MIN_SCORE));
    assert!(kb.search("thermostat", 0).is_empty());
}

#[test]
fn stemming() {
    assert_eq!(stem("pumps"), stem("pump"));
    assert_eq!(stem("freezes"), stem("freezing"));
    assert_eq!(stem("freeze"), stem("freezing"));
    assert_eq!(stem("noises"), stem("noise"));
    assert_eq!(stem("batteries"), "battery");
    assert_eq!(stem("running"), "run");
    assert_eq!(stem("gas"), "gas");
    assert_eq!(stem("cleaned"), stem("clean"));
    assert_eq!(stem("stopped"), "stop");
    assert_eq!(stem("iced"), stem("ice"));
    assert_eq!(stem("need"), "need");
}

#[test]
fn content_words_drop_negations_and_numbers_and_mark_what_they_should() {
    let words = content_words("the ac isnt cooling and its one hundred and five in here");
    let stems: Vec<&str> = words.iter().map(|w| w.stem.as_str()).collect();
    assert_eq!(stems, ["ac", "cool"]);
    assert!(!words[0].negated && words[1].negated);
    assert!(!words[1].joins_previous, "a negation breaks the pair");
    let words = content_words("whats the trip fee for my side of dallas");
    let modifiers: Vec<bool> = words.iter().map(|w| w.modifier).collect();
    assert_eq!(modifiers, [false, false, true, true]);
    let words = content_words("do you work on furnaces");
    assert!(words.iter().all(|w| !w.modifier), "nothing named before on");
    let generic: Vec<bool> = content_words("the house went dark")
        .iter()
        .map(|w| w.generic)
        .collect();
    assert_eq!(generic, [true, true, true]);
}
