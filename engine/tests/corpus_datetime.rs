//! Accuracy of the date/time extractor on two public corpora:
//! - SGD appointment utterances (gold date and time values), floors 95 % / 97 %;
//! - Duckling's English time corpus, restricted to plain instants with Day/Hour/Minute grain.
//!
//! Run with `--nocapture` to see the figures and the first failures.

use frontdesk_engine::extract::datetime::{DateTimeMention, extract_datetime};
use jiff::civil::{Date, DateTime, Time};
use std::path::PathBuf;

fn corpus(name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "shared",
        "corpora",
        name,
    ]
    .iter()
    .collect();
    match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => panic!(
            "corpus file {} is missing or unreadable ({e}); it lives in ../shared/corpora next to the repository",
            path.display()
        ),
    }
}

fn field<'a>(v: &'a serde_json::Value, outer: &str) -> Option<&'a str> {
    v.get(outer)?.get("value")?.as_str()
}

#[test]
fn sgd_appointments_accuracy() {
    let text = corpus("sgd_appointments_dev.jsonl");
    let (mut dates, mut date_ok, mut times, mut time_ok) = (0u32, 0u32, 0u32, 0u32);
    let mut failures = Vec::new();
    // Precision side: values produced on lines whose gold has none.
    let (mut spurious_dates, mut spurious_times) = (0u32, 0u32);
    let mut spurious = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        let now: DateTime = v["now"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("line {}: bad now", n + 1));
        let utterance = v["text"].as_str().unwrap_or_default();
        let got = extract_datetime(utterance, now, true);
        let mut bad = false;
        if let Some(gold) = field(&v, "date") {
            dates += 1;
            let gold: Date = gold
                .parse()
                .unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
            if got.as_ref().and_then(|m| m.date) == Some(gold) {
                date_ok += 1;
            } else {
                bad = true;
            }
        }
        if let Some(gold) = field(&v, "time") {
            times += 1;
            let gold: Time = gold
                .parse()
                .unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
            if got.as_ref().and_then(|m| m.time) == Some(gold) {
                time_ok += 1;
            } else {
                bad = true;
            }
        }
        let extra_date =
            field(&v, "date").is_none() && got.as_ref().is_some_and(|m| m.date.is_some());
        let extra_time =
            field(&v, "time").is_none() && got.as_ref().is_some_and(|m| m.time.is_some());
        spurious_dates += u32::from(extra_date);
        spurious_times += u32::from(extra_time);
        if extra_date || extra_time {
            spurious.push(format!("  {utterance:?} -> {got:?}"));
        }
        if bad {
            failures.push(format!(
                "  {utterance:?}\n    gold date={:?} time={:?}\n    got  {:?}",
                field(&v, "date"),
                field(&v, "time"),
                got
            ));
        }
    }
    let date_pct = 100.0 * f64::from(date_ok) / f64::from(dates.max(1));
    let time_pct = 100.0 * f64::from(time_ok) / f64::from(times.max(1));
    println!("SGD date accuracy: {date_ok}/{dates} = {date_pct:.2} %");
    println!("SGD time accuracy: {time_ok}/{times} = {time_pct:.2} %");
    println!("{} failing lines; first 30:", failures.len());
    for f in failures.iter().take(30) {
        println!("{f}");
    }
    println!(
        "spurious values on lines without gold: {spurious_dates} dates, {spurious_times} times; first 15:"
    );
    for f in spurious.iter().take(15) {
        println!("{f}");
    }
    assert!(dates > 1000 && times > 1000, "corpus looks truncated");
    assert!(
        date_pct >= 95.0,
        "SGD date accuracy {date_pct:.2} % is below 95 %"
    );
    assert!(
        time_pct >= 97.0,
        "SGD time accuracy {time_pct:.2} % is below 97 %"
    );
}

/// Parses `datetime (2013, 2, 15, 0, 0, 0) Day` into the instant and grain.
fn parse_expected(expr: &str) -> Option<(DateTime, &str)> {
    let rest = expr.strip_prefix("datetime (")?;
    let (nums, grain) = rest.split_once(')')?;
    let n: Vec<i64> = nums
        .split(',')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    let [y, mo, d, h, mi, s] = n.as_slice() else {
        return None;
    };
    let dt = DateTime::new(
        i16::try_from(*y).ok()?,
        i8::try_from(*mo).ok()?,
        i8::try_from(*d).ok()?,
        i8::try_from(*h).ok()?,
        i8::try_from(*mi).ok()?,
        i8::try_from(*s).ok()?,
        0,
    )
    .ok()?;
    Some((dt, grain.trim()))
}

/// Time zones are out of scope (business-local civil time only).
const TZ_WORDS: &[&str] = &[" cet", " gmt", " pst", " bst", " ist", "(bst)"];

/// Compares a mention with a Duckling instant. A time without a date is taken as the next
/// occurrence of that time, as Duckling does.
fn matches(m: &DateTimeMention, now: DateTime, want: DateTime, grain: &str) -> bool {
    if grain == "Day" {
        return m.date == Some(want.date()) && m.time.is_none();
    }
    let Some(t) = m.time else { return false };
    let date = m.date.unwrap_or_else(|| {
        if t >= now.time() {
            now.date()
        } else {
            now.date().tomorrow().unwrap_or(now.date())
        }
    });
    date == want.date() && t == want.time()
}

#[test]
fn duckling_time_accuracy() {
    let text = corpus("duckling_time_en.txt");
    let (mut counted, mut ok) = (0u32, 0u32);
    let mut skipped = 0u32;
    let mut failures = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.starts_with("file\t") {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [_, section, reference, phrase, expected] = cols.as_slice() else {
            continue;
        };
        // Scope: plain instants at Day/Hour/Minute grain from the default and example corpora.
        // Skipped: intervals, open intervals, holidays, latent and negative sections, other grains,
        // time zones, past references (ago, yesterday, last ...), and years outside 2012..=2014.
        let Some((want, grain)) = parse_expected(expected) else {
            skipped += 1;
            continue;
        };
        let lower = phrase.to_lowercase();
        let past = ["ago", "back", "yesterday", "last ", "previous"]
            .iter()
            .any(|w| lower.contains(w));
        if !matches!(grain, "Day" | "Hour" | "Minute")
            || !matches!(*section, "allExamples" | "defaultCorpus" | "diffCorpus")
            || TZ_WORDS.iter().any(|w| lower.contains(w))
            || past
            || !(2012..=2014).contains(&want.year())
        {
            skipped += 1;
            continue;
        }
        let Some(now) = reference.get(..19).and_then(|s| s.parse::<DateTime>().ok()) else {
            skipped += 1;
            continue;
        };
        counted += 1;
        let got = extract_datetime(phrase, now, true);
        if got.as_ref().is_some_and(|m| matches(m, now, want, grain)) {
            ok += 1;
        } else {
            failures.push(format!("  {phrase:?} want {want} ({grain}) got {got:?}"));
        }
    }
    let pct = 100.0 * f64::from(ok) / f64::from(counted.max(1));
    println!(
        "Duckling time (instants, Day/Hour/Minute): {ok}/{counted} = {pct:.2} % ({skipped} rows out of scope)"
    );
    for f in failures.iter().take(30) {
        println!("{f}");
    }
    assert!(counted > 200, "duckling corpus looks truncated");
    assert!(
        pct >= 85.0,
        "duckling accuracy {pct:.2} % fell below the floor"
    );
}

/// Phrases Duckling must not read as a time; with `asked = false` neither should we.
#[test]
fn duckling_negative_phrases() {
    let text = corpus("duckling_time_en.txt");
    let now: DateTime = "2013-02-12T04:30:00"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut wrong = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if let [_, "negativeCorpus", _, phrase, _] = cols.as_slice()
            && let Some(m) = extract_datetime(phrase, now, false)
        {
            wrong.push(format!("{phrase:?} -> {m:?}"));
        }
    }
    println!("negative phrases read as date/time: {wrong:#?}");
    assert!(wrong.is_empty(), "{wrong:#?}");
}
