//! Calls ended since the process started, by outcome: what `/health/detailed` reports and what
//! a load run compares with the outcomes its caller scripts expect.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
pub struct OutcomeCounts {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl OutcomeCounts {
    pub fn add(&self, outcome: &str) {
        crate::telemetry::call_ended(outcome);
        *self.lock().entry(outcome.to_string()).or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        // Each update is one increment: a poisoned map is still consistent.
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_outcome() {
        let counts = OutcomeCounts::default();
        let shared = counts.clone();
        counts.add("booked");
        shared.add("booked");
        counts.add("transferred");
        let snapshot = counts.snapshot();
        assert_eq!(snapshot.get("booked"), Some(&2));
        assert_eq!(snapshot.get("transferred"), Some(&1));
    }
}
