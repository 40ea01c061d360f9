//! Calls in progress on this server, so a shutdown can wait for them.
//!
//! A call is live from its first webhook (or stream `start`) until it ends. Twilio's status
//! callback is what ends most calls, and it can be lost (a misconfigured number, a network
//! fault), so a call with no webhook or stream frame for longer than any real turn is counted
//! as over: otherwise one lost callback holds every shutdown for the whole drain limit.
//!
//! A call over on this side (a goodbye, a transfer, a closed stream) has its status callback to come, with
//! the carrier's status and duration for the record. It stays on the list for a short while
//! ([`STATUS_GRACE`]), so a shutdown does not stop listening just before that callback arrives.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// How long a call the agent ended waits for its status callback before it stops counting.
pub(super) const STATUS_GRACE: Duration = Duration::from_secs(5);

/// A call's last sign of life, and how long it may stay quiet and still count.
#[derive(Clone, Copy)]
struct Seen {
    at: Instant,
    limit: Duration,
}

pub(super) struct LiveCalls {
    seen: Mutex<HashMap<String, Seen>>,
    changed: Notify,
    draining: AtomicBool,
    idle_limit: Duration,
}

impl LiveCalls {
    pub(super) fn new(idle_limit: Duration) -> LiveCalls {
        LiveCalls {
            seen: Mutex::default(),
            changed: Notify::new(),
            draining: AtomicBool::new(false),
            idle_limit,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Seen>> {
        // Entries are single inserts and removes: a poisoned map is still consistent.
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a call as live; false if it already was (and has not gone idle).
    pub(super) fn begin(&self, sid: &str) -> bool {
        let now = Instant::now();
        let mut seen = self.lock();
        let fresh = seen
            .get(sid)
            .is_none_or(|last| now.duration_since(last.at) >= last.limit);
        seen.insert(sid.to_string(), self.live_now());
        fresh
    }

    fn live_now(&self) -> Seen {
        Seen {
            at: Instant::now(),
            limit: self.idle_limit,
        }
    }

    /// Whether a new call may start with at most `max` live: yes for a call already live (a
    /// retried webhook), and for a new one while fewer than `max` are. With `reserve`, an
    /// admitted call counts as live at once, so simultaneous new calls cannot all slip in;
    /// stream mode does not reserve, because the stream's own start is what counts it.
    pub(super) fn admit(&self, sid: &str, max: Option<usize>, reserve: bool) -> bool {
        let Some(max) = max else {
            return true;
        };
        self.sweep();
        let mut seen = self.lock();
        if seen.contains_key(sid) {
            return true;
        }
        let live = seen.values().filter(|s| s.limit == self.idle_limit).count();
        if live >= max {
            return false;
        }
        if reserve {
            seen.insert(sid.to_string(), self.live_now());
        }
        true
    }

    /// A webhook or stream frame for the call: it is live, now.
    pub(super) fn touch(&self, sid: &str) {
        self.lock().insert(sid.to_string(), self.live_now());
    }

    /// The call is over on this side (the agent ended it, or its stream closed); the carrier's
    /// status callback is still to come.
    pub(super) fn awaiting_status(&self, sid: &str) {
        let closing = Seen {
            at: Instant::now(),
            limit: STATUS_GRACE.min(self.idle_limit),
        };
        self.lock().insert(sid.to_string(), closing);
        self.changed.notify_waiters();
    }

    /// The call is over: its status callback came, or its stream closed for good.
    pub(super) fn end(&self, sid: &str) {
        if self.lock().remove(sid).is_some() {
            self.changed.notify_waiters();
        }
    }

    /// Calls on the list, after dropping the ones quiet past their limit; and when the first
    /// of the rest would go quiet.
    fn sweep(&self) -> (usize, Option<Instant>) {
        let now = Instant::now();
        let mut seen = self.lock();
        seen.retain(|sid, last| {
            let idle = now.duration_since(last.at);
            let over = idle >= last.limit;
            if over && last.limit == self.idle_limit {
                tracing::warn!(call_id = %sid, idle_seconds = idle.as_secs(), "no webhook or stream frame for this call in too long; it no longer counts as live");
            }
            !over
        });
        let next_idle = seen.values().map(|last| last.at + last.limit).min();
        (seen.len(), next_idle)
    }

    /// Calls in progress (not counting ended ones waiting for their status callback).
    pub(super) fn count(&self) -> usize {
        self.sweep();
        self.lock()
            .values()
            .filter(|seen| seen.limit == self.idle_limit)
            .count()
    }

    pub(super) fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub(super) fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Waits until no call is left (ended, or idle past the limit) or `limit` passes.
    pub(super) async fn drained(&self, limit: Duration) {
        let wait = async {
            loop {
                let changed = self.changed.notified();
                let (live, next_idle) = self.sweep();
                let Some(next_idle) = next_idle.filter(|_| live > 0) else {
                    return;
                };
                tokio::select! {
                    () = changed => {}
                    () = tokio::time::sleep_until(next_idle) => {}
                }
            }
        };
        let _ = tokio::time::timeout(limit, wait).await;
    }
}
