//! Calls in progress on this server, so a shutdown can wait for them.
//!
//! A call is live from its first webhook (or stream `start`) until it ends. Twilio's status
//! callback is what ends most calls, and it can be lost (a misconfigured number, a network
//! fault), so a call with no webhook or stream frame for longer than any real turn is counted
//! as over: otherwise one lost callback holds every shutdown for the whole drain limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

pub(super) struct LiveCalls {
    /// Each live call's last sign of life.
    seen: Mutex<HashMap<String, Instant>>,
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        // Entries are single inserts and removes: a poisoned map is still consistent.
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a call as live; false if it already was (and has not gone idle).
    pub(super) fn begin(&self, sid: &str) -> bool {
        let now = Instant::now();
        let mut seen = self.lock();
        let fresh = seen
            .get(sid)
            .is_none_or(|last| now.duration_since(*last) >= self.idle_limit);
        seen.insert(sid.to_string(), now);
        fresh
    }

    /// A webhook or stream frame for the call: it is live, now.
    pub(super) fn touch(&self, sid: &str) {
        self.lock().insert(sid.to_string(), Instant::now());
    }

    pub(super) fn end(&self, sid: &str) {
        if self.lock().remove(sid).is_some() {
            self.changed.notify_waiters();
        }
    }

    /// Live calls, after dropping the ones idle past the limit; and when the oldest of the
    /// rest would go idle.
    fn sweep(&self) -> (usize, Option<Instant>) {
        let now = Instant::now();
        let mut seen = self.lock();
        seen.retain(|sid, last| {
            let idle = now.duration_since(*last);
            if idle >= self.idle_limit {
                tracing::warn!(call_id = %sid, idle_seconds = idle.as_secs(), "no webhook or stream frame for this call in too long; it no longer counts as live");
            }
            idle < self.idle_limit
        });
        let next_idle = seen.values().min().map(|last| *last + self.idle_limit);
        (seen.len(), next_idle)
    }

    pub(super) fn count(&self) -> usize {
        self.sweep().0
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
