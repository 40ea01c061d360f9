//! What a load run did: how calls ended, whether they went as their caller scripts expect, and
//! the latencies seen from the phone.
//!
//! A phone sees the wire, not the call record: where a call was transferred, what the agent
//! said (gather mode, or stream mode through the fake Deepgram), how many turns it took. Those
//! expectations are checked per call. The outcome (`booked`, `answered`, ...) is the server's:
//! the run compares the outcomes the scripts expect with the server's own count of outcomes
//! over the run (`/health/detailed`), and every call short of its expected outcome counts as
//! failed. That assumes no other calls reach the server during the run.

use std::collections::BTreeMap;
use std::time::Duration;

use frontdesk_engine::script::{Heard, Script};
use frontdesk_testkit::phone::{PhoneEnding, PhoneReport, Speaker};

use crate::PhoneMode;

/// Outcomes that end with the call put through to a number.
const TRANSFER_OUTCOMES: [&str; 2] = ["transferred", "emergency"];

/// Latency and outcome totals over a load run.
pub struct Summary {
    pub calls: usize,
    /// Calls that failed on the phone (an error, a time-out) or whose script's expectations
    /// were not met, counted once each.
    pub failed_calls: usize,
    /// Calls the server cannot have ended as their scripts expect, by its outcome counts.
    pub outcome_misses: usize,
    pub turns: usize,
    pub elapsed: Duration,
    pub turn_latency: Percentiles,
    pub barge_in: Percentiles,
    pub late_frames: u64,
    pub late_ticks: u64,
    pub frames_sent: u64,
    /// Calls by how they ended on the phone.
    pub endings: BTreeMap<&'static str, usize>,
    /// Outcomes the scripts expect, summed.
    pub expected_outcomes: BTreeMap<String, usize>,
    /// The server's outcomes over the run, when it reports them.
    pub server_outcomes: Option<BTreeMap<String, u64>>,
    /// Why calls failed, one line each.
    pub failures: Vec<String>,
}

impl Summary {
    /// `runs` pairs each call's report with the script it played; `server_outcomes` is the
    /// server's count of outcomes over the run, when known.
    pub fn of(
        runs: &[(PhoneReport, &Script)],
        elapsed: Duration,
        server_outcomes: Option<BTreeMap<String, u64>>,
    ) -> Summary {
        let mut failures = Vec::new();
        let mut endings = BTreeMap::new();
        let mut expected_outcomes: BTreeMap<String, usize> = BTreeMap::new();
        for (report, script) in runs {
            *endings.entry(ending_kind(&report.ending)).or_default() += 1;
            if let Some(outcome) = &script.expect.outcome {
                *expected_outcomes.entry(outcome.clone()).or_default() += 1;
            }
            let unmet = match &report.ending {
                PhoneEnding::Failed(why) => vec![why.clone()],
                PhoneEnding::TimedOut => vec!["timed out".to_string()],
                _ => unmet_expectations(report, script),
            };
            if !unmet.is_empty() {
                failures.push(format!(
                    "{} ({}): {}",
                    report.call_sid,
                    script.name,
                    unmet.join("; ")
                ));
            }
        }
        let outcome_misses = server_outcomes
            .as_ref()
            .map_or(0, |actual| shortfall(&expected_outcomes, actual));
        let reports = runs.iter().map(|(report, _)| report);
        Summary {
            calls: runs.len(),
            failed_calls: failures.len(),
            outcome_misses,
            turns: reports.clone().map(|r| r.turn_latencies.len()).sum(),
            elapsed,
            turn_latency: Percentiles::of(
                reports
                    .clone()
                    .flat_map(|r| r.turn_latencies.clone())
                    .collect(),
            ),
            barge_in: Percentiles::of(
                reports
                    .clone()
                    .flat_map(|r| r.barge_in_latencies.clone())
                    .collect(),
            ),
            late_frames: reports.clone().map(|r| r.late_frames).sum(),
            late_ticks: reports.clone().map(|r| r.late_ticks).sum(),
            frames_sent: reports.map(|r| r.frames_sent).sum(),
            endings,
            expected_outcomes,
            server_outcomes,
            failures,
        }
    }

    /// Calls that did not go as their scripts expect: each failed call once, or more where
    /// the server's outcomes show more (the two may overlap, so the larger).
    pub fn failed(&self) -> usize {
        self.failed_calls.max(self.outcome_misses)
    }

    pub fn print(&self, mode: PhoneMode) {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        println!(
            "{} calls ({} failed) in {:.1} s",
            self.calls,
            self.failed(),
            secs
        );
        let endings: Vec<String> = self
            .endings
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        println!("ended on the phone: {}", endings.join(", "));
        if let Some(actual) = &self.server_outcomes {
            println!(
                "server outcomes: {}; the scripts expect: {}",
                counts(actual.iter().map(|(k, n)| (k.as_str(), *n as usize))),
                counts(self.expected_outcomes.iter().map(|(k, n)| (k.as_str(), *n)))
            );
            if self.outcome_misses > 0 {
                println!(
                    "{} call(s) did not end with the outcome their script expects",
                    self.outcome_misses
                );
            }
        }
        match mode {
            PhoneMode::Gather => {
                println!(
                    "webhook turns: {} ({:.0}/s); latency {}",
                    self.turns,
                    self.turns as f64 / secs,
                    self.turn_latency.line()
                );
            }
            PhoneMode::Stream => {
                println!(
                    "final transcript -> first agent audio: {}",
                    self.turn_latency.line()
                );
                if self.barge_in.count > 0 {
                    println!("speech cue -> clear: {}", self.barge_in.line());
                }
                println!(
                    "caller frames sent: {}; agent frames late: {}; phone ticks late: {}",
                    self.frames_sent, self.late_frames, self.late_ticks
                );
            }
        }
        for failure in self.failures.iter().take(10) {
            println!("failed: {failure}");
        }
        if self.failures.len() > 10 {
            println!("failed: … and {} more", self.failures.len() - 10);
        }
    }
}

/// `booked 2, abandoned 2998`, or `none`.
fn counts<'a>(items: impl Iterator<Item = (&'a str, usize)>) -> String {
    let parts: Vec<String> = items
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// How a call ended on the phone, in words.
fn ending_kind(ending: &PhoneEnding) -> &'static str {
    match ending {
        PhoneEnding::Transferred(_) => "transferred",
        PhoneEnding::AgentHungUp => "the agent hung up",
        PhoneEnding::CallerHungUp => "the caller hung up",
        PhoneEnding::TimedOut => "timed out",
        PhoneEnding::Failed(_) => "failed",
    }
}

/// What the phone can tell of a script's expectations that the call did not meet.
fn unmet_expectations(report: &PhoneReport, script: &Script) -> Vec<String> {
    let agent_lines: Vec<&str> = report
        .transcript
        .iter()
        .filter(|(who, _)| *who == Speaker::Agent)
        .map(|(_, text)| text.as_str())
        .collect();
    let transfer_to = match &report.ending {
        PhoneEnding::Transferred(to) => Some(to.as_str()),
        _ => None,
    };
    let heard = Heard {
        // Without the agent's words (stream mode with other speech) `said` cannot be checked.
        agent_turns: (!agent_lines.is_empty()).then_some(report.turn_latencies.len()),
        agent_lines: (!agent_lines.is_empty()).then_some(agent_lines),
        transfer_to,
    };
    let mut unmet = script.expect.check_heard(&heard);
    if let Some(outcome) = &script.expect.outcome {
        let put_through = TRANSFER_OUTCOMES.contains(&outcome.as_str());
        match (put_through, transfer_to) {
            (true, None) => unmet.push(format!("outcome {outcome}: the call was not put through")),
            (false, Some(to)) => unmet.push(format!(
                "outcome {outcome}: the call was put through to {to}"
            )),
            _ => {}
        }
    }
    unmet
}

/// Calls short of their expected outcome: for each outcome, expected beyond what happened.
fn shortfall(expected: &BTreeMap<String, usize>, actual: &BTreeMap<String, u64>) -> usize {
    expected
        .iter()
        .map(|(outcome, want)| {
            let got = actual.get(outcome).copied().unwrap_or(0) as usize;
            want.saturating_sub(got)
        })
        .sum()
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    pub count: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Percentiles {
    pub fn of(mut samples: Vec<Duration>) -> Percentiles {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Percentiles {
            count: samples.len(),
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: at(1.0),
        }
    }

    pub fn line(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "n={} p50={:.2} ms p95={:.2} ms p99={:.2} ms max={:.2} ms",
            self.count,
            ms(self.p50),
            ms(self.p95),
            ms(self.p99),
            ms(self.max)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(yaml: &str) -> Script {
        Script::from_yaml(yaml).unwrap()
    }

    fn report(sid: &str, ending: PhoneEnding, agent: &[&str]) -> PhoneReport {
        let mut report = PhoneReport::new(sid);
        report.ending = ending;
        report.transcript = agent
            .iter()
            .map(|line| (Speaker::Agent, line.to_string()))
            .collect();
        report.turn_latencies = vec![Duration::from_millis(5); agent.len()];
        report
    }

    const BOOKING: &str = "name: booking\nnow: 2026-06-01T09:00\nturns: [{ say: hi }]\n\
                           expect: { outcome: booked, said: [booked] }\n";

    #[test]
    fn a_call_that_misses_what_its_script_expects_fails() {
        let booking = script(BOOKING);
        let runs = [
            (
                report("CA1", PhoneEnding::AgentHungUp, &["You're booked."]),
                &booking,
            ),
            (
                report("CA2", PhoneEnding::CallerHungUp, &["Sorry?"]),
                &booking,
            ),
            (
                report("CA3", PhoneEnding::Transferred("+1".into()), &["booked"]),
                &booking,
            ),
        ];
        let summary = Summary::of(&runs, Duration::from_secs(1), None);
        assert_eq!(summary.failed(), 2, "{:?}", summary.failures);
        assert!(
            summary.failures[0].starts_with("CA2"),
            "{:?}",
            summary.failures
        );
        assert!(
            summary.failures[1].contains("put through"),
            "{:?}",
            summary.failures
        );
        assert_eq!(summary.endings.get("the caller hung up"), Some(&1));
    }

    #[test]
    fn the_servers_outcomes_count_calls_the_phone_could_not_judge() {
        let booking = script(BOOKING);
        // The phone heard "booked" on every call, but the server booked only one.
        let runs: Vec<(PhoneReport, &Script)> = (0..3)
            .map(|i| {
                let said = report(&format!("CA{i}"), PhoneEnding::AgentHungUp, &["booked"]);
                (said, &booking)
            })
            .collect();
        let server = BTreeMap::from([("booked".to_string(), 1), ("abandoned".to_string(), 2)]);
        let summary = Summary::of(&runs, Duration::from_secs(1), Some(server));
        assert_eq!(summary.failed_calls, 0);
        assert_eq!(summary.outcome_misses, 2);
        assert_eq!(summary.failed(), 2);
    }
}
