//! The server's own share of the latencies callers feel, measured inside the call loop and
//! reported in `/health/detailed`: a recent window of samples with percentiles.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

/// Samples kept per measure: enough for stable percentiles, small enough to sort on demand.
const WINDOW: usize = 16 * 1024;

#[derive(Default)]
pub struct LatencyWindow {
    samples: Mutex<VecDeque<Duration>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl LatencyWindow {
    pub fn record(&self, sample: Duration) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() == WINDOW {
            samples.pop_front();
        }
        samples.push_back(sample);
    }

    pub fn summary(&self) -> LatencySummary {
        let mut sorted: Vec<Duration> = self
            .samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .copied()
            .collect();
        if sorted.is_empty() {
            return LatencySummary::default();
        }
        sorted.sort();
        let ms =
            |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
        LatencySummary {
            count: sorted.len(),
            p50_ms: ms(0.50),
            p95_ms: ms(0.95),
            p99_ms: ms(0.99),
            max_ms: ms(1.0),
        }
    }
}

/// What stream mode measures.
#[derive(Default)]
pub struct StreamLatencies {
    /// Caller's turn over (the recognizer's final) → first agent audio frame written to Twilio.
    pub turn_to_first_audio: LatencyWindow,
    /// Caller's speech cue (speech started or an interim) → `clear` written to Twilio.
    pub barge_in_to_clear: LatencyWindow,
    /// Caller's turn over → first sentence of a model's knowledge answer handed to TTS.
    pub turn_to_answer_sentence: LatencyWindow,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_over_the_window() {
        let window = LatencyWindow::default();
        assert_eq!(window.summary().count, 0);
        for ms in 1..=100 {
            window.record(Duration::from_millis(ms));
        }
        let summary = window.summary();
        assert_eq!(summary.count, 100);
        assert!((summary.p50_ms - 51.0).abs() < 1.01, "{summary:?}");
        assert!((summary.p99_ms - 99.0).abs() < 1.01, "{summary:?}");
        assert_eq!(summary.max_ms, 100.0);
    }
}
