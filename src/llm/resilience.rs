//! Circuit breaker and backoff. The product must keep answering calls when the model is down,
//! so after repeated failures the client stops waiting on it and fails immediately.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

/// What `/health/detailed` reports about the breaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakerState {
    pub state: BreakerPhase,
    pub consecutive_failures: u32,
    /// While open: milliseconds until one probe is let through.
    pub half_open_in_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerPhase {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { probe_in_flight: bool },
}

#[derive(Debug)]
struct Inner {
    phase: Phase,
    consecutive_failures: u32,
}

/// Closed → open after `failures` consecutive failed attempts → half-open after `cooldown`,
/// letting a single probe through → closed when it succeeds, open again when it fails.
#[derive(Debug)]
pub(crate) struct Breaker {
    failures: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

/// Permission for one attempt. Dropping it unreported (the caller gave up mid-attempt) frees
/// the probe slot without judging the server.
pub(crate) struct Permit<'a> {
    breaker: &'a Breaker,
    probe: bool,
    reported: bool,
}

impl Breaker {
    pub(crate) fn new(failures: u32, cooldown: Duration) -> Self {
        Breaker {
            failures: failures.max(1),
            cooldown,
            inner: Mutex::new(Inner {
                phase: Phase::Closed,
                consecutive_failures: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state stays meaningful even if a holder panicked.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A permit for one attempt, or `None` while the breaker is open (or a probe is running).
    pub(crate) fn try_acquire(&self) -> Option<Permit<'_>> {
        let mut inner = self.lock();
        let probe = match inner.phase {
            Phase::Closed => false,
            Phase::Open { until } if Instant::now() >= until => true,
            Phase::Open { .. } => return None,
            Phase::HalfOpen {
                probe_in_flight: false,
            } => true,
            Phase::HalfOpen {
                probe_in_flight: true,
            } => return None,
        };
        if probe {
            inner.phase = Phase::HalfOpen {
                probe_in_flight: true,
            };
        }
        Some(Permit {
            breaker: self,
            probe,
            reported: false,
        })
    }

    pub(crate) fn record_success(&self) {
        let mut inner = self.lock();
        inner.consecutive_failures = 0;
        inner.phase = Phase::Closed;
    }

    pub(crate) fn record_failure(&self, probe: bool) {
        let mut inner = self.lock();
        inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
        let open = match inner.phase {
            Phase::Closed => inner.consecutive_failures >= self.failures,
            Phase::HalfOpen { .. } => probe,
            // Another attempt already reopened it; keep its cooldown.
            Phase::Open { .. } => false,
        };
        if open {
            inner.phase = Phase::Open {
                until: Instant::now() + self.cooldown,
            };
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        let inner = self.lock();
        let (state, half_open_in) = match inner.phase {
            Phase::Closed => (BreakerPhase::Closed, None),
            Phase::Open { until } => {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    (BreakerPhase::HalfOpen, None)
                } else {
                    (BreakerPhase::Open, Some(left))
                }
            }
            Phase::HalfOpen { .. } => (BreakerPhase::HalfOpen, None),
        };
        BreakerState {
            state,
            consecutive_failures: inner.consecutive_failures,
            half_open_in_ms: half_open_in.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        }
    }
}

impl Permit<'_> {
    pub(crate) fn success(mut self) {
        self.reported = true;
        self.breaker.record_success();
    }

    pub(crate) fn failure(mut self) {
        self.reported = true;
        self.breaker.record_failure(self.probe);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe && !self.reported {
            let mut inner = self.breaker.lock();
            if let Phase::HalfOpen { .. } = inner.phase {
                inner.phase = Phase::HalfOpen {
                    probe_in_flight: false,
                };
            }
        }
    }
}

/// Longest backoff between attempts: a caller is on the line.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Delay before retry number `retry` (1-based): `base · 2^(retry-1)`, capped, scaled by a
/// random factor in [0.5, 1) so that clients that failed together do not retry together.
pub(crate) fn backoff(base: Duration, retry: u32) -> Duration {
    let exp = base
        .saturating_mul(1u32 << retry.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    exp.mul_f64(0.5 + random_unit() / 2.0)
}

/// A random number in [0, 1), from std's randomly keyed hasher (no extra dependency for jitter).
fn random_unit() -> f64 {
    use std::hash::BuildHasher;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let bits = std::collections::hash_map::RandomState::new().hash_one(n) >> 11;
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(breaker: &Breaker) {
        if let Some(permit) = breaker.try_acquire() {
            permit.failure();
        }
    }

    fn succeed(breaker: &Breaker) {
        if let Some(permit) = breaker.try_acquire() {
            permit.success();
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let base = Duration::from_millis(100);
        for _ in 0..50 {
            let first = backoff(base, 1);
            assert!(first >= Duration::from_millis(50) && first < base);
            let third = backoff(base, 3);
            assert!(third >= Duration::from_millis(200) && third < Duration::from_millis(400));
            assert!(backoff(base, 30) < MAX_BACKOFF);
        }
    }

    #[test]
    fn breaker_opens_after_consecutive_failures() {
        let breaker = Breaker::new(2, Duration::from_secs(30));
        fail(&breaker);
        succeed(&breaker);
        fail(&breaker);
        assert_eq!(
            breaker.state().state,
            BreakerPhase::Closed,
            "not consecutive"
        );
        fail(&breaker);
        let state = breaker.state();
        assert_eq!(state.state, BreakerPhase::Open);
        assert_eq!(state.consecutive_failures, 2);
        assert!(state.half_open_in_ms.is_some_and(|ms| ms <= 30_000));
        assert!(breaker.try_acquire().is_none());
    }

    #[test]
    fn half_open_lets_one_probe_through() {
        // A zero cooldown makes the breaker half-open as soon as it opens.
        let breaker = Breaker::new(1, Duration::ZERO);
        fail(&breaker);
        assert_eq!(breaker.state().state, BreakerPhase::HalfOpen);
        let probe = breaker.try_acquire();
        assert!(probe.is_some());
        assert!(breaker.try_acquire().is_none(), "one probe at a time");
        // A probe abandoned by its caller frees the slot.
        drop(probe);
        let probe = breaker.try_acquire();
        assert!(probe.is_some());
        if let Some(probe) = probe {
            probe.failure();
        }
        assert_eq!(breaker.state().consecutive_failures, 2);
        succeed(&breaker);
        assert_eq!(
            breaker.state(),
            BreakerState {
                state: BreakerPhase::Closed,
                consecutive_failures: 0,
                half_open_in_ms: None
            }
        );
    }
}
