//! Where Gather-mode calls live between webhooks. Each Twilio webhook is a separate HTTP
//! request, so the call's state is saved after every turn and loaded at the next one: in memory
//! for a single server, in Redis when several servers share one phone number.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::AsyncCommands;

use crate::call::LiveCall;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("session store: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("session store: a saved call could not be read back: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("unknown session store `{0}`: use `memory` or a redis:// URL")]
    Unknown(String),
    #[error("session store: no answer within {} ms", .0.as_millis())]
    TimedOut(Duration),
}

/// How long an idle call is kept. Twilio calls are capped at four hours; an abandoned webhook
/// conversation should not outlive that.
pub const SESSION_TTL: Duration = Duration::from_secs(4 * 3600);
/// How long an ended call is kept: long enough to answer Twilio's retry of its last webhook
/// with the same TwiML (Twilio gives up on a webhook after 15 s).
pub const ENDED_TTL: Duration = Duration::from_secs(120);

#[async_trait]
pub trait SessionStore: Send + Sync {
    fn name(&self) -> &'static str;
    /// Whether other servers read these sessions (the next webhook may land on another).
    fn shared(&self) -> bool {
        false
    }
    async fn load(&self, call_sid: &str) -> Result<Option<LiveCall>, SessionError>;
    /// Keeps `call` for `ttl` (see [`SESSION_TTL`], [`ENDED_TTL`]).
    async fn save(
        &self,
        call_sid: &str,
        call: &LiveCall,
        ttl: Duration,
    ) -> Result<(), SessionError>;
    async fn remove(&self, call_sid: &str) -> Result<(), SessionError>;
    /// Checks the store answers, for `/health/detailed`.
    async fn ping(&self) -> Result<(), SessionError>;
}

/// Sessions in this process, each with the instant it expires. Expired entries are swept on
/// writes.
#[derive(Default)]
pub struct MemorySessions {
    calls: Mutex<HashMap<String, (LiveCall, Instant)>>,
}

impl MemorySessions {
    pub fn new() -> MemorySessions {
        MemorySessions::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (LiveCall, Instant)>> {
        // A panic while holding the lock cannot leave a half-written entry (inserts are
        // single operations), so a poisoned map is still consistent.
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl SessionStore for MemorySessions {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn load(&self, call_sid: &str) -> Result<Option<LiveCall>, SessionError> {
        let calls = self.lock();
        let now = Instant::now();
        Ok(calls
            .get(call_sid)
            .filter(|(_, expires)| now < *expires)
            .map(|(call, _)| call.clone()))
    }

    async fn save(
        &self,
        call_sid: &str,
        call: &LiveCall,
        ttl: Duration,
    ) -> Result<(), SessionError> {
        let mut calls = self.lock();
        let now = Instant::now();
        if calls.len().is_multiple_of(1024) {
            calls.retain(|_, (_, expires)| now < *expires);
        }
        calls.insert(call_sid.to_string(), (call.clone(), now + ttl));
        Ok(())
    }

    async fn remove(&self, call_sid: &str) -> Result<(), SessionError> {
        self.lock().remove(call_sid);
        Ok(())
    }

    async fn ping(&self) -> Result<(), SessionError> {
        Ok(())
    }
}

/// Sessions in Redis as JSON with an expiry, shared by every server behind one number.
pub struct RedisSessions {
    connection: redis::aio::ConnectionManager,
    prefix: String,
}

impl RedisSessions {
    pub async fn connect(url: &str) -> Result<RedisSessions, SessionError> {
        let client = redis::Client::open(url)?;
        let connection = redis::aio::ConnectionManager::new(client).await?;
        Ok(RedisSessions {
            connection,
            prefix: "frontdesk:call:".to_string(),
        })
    }

    /// Keys under a different prefix, so tests sharing one Redis cannot see each other.
    pub fn with_prefix(mut self, prefix: &str) -> RedisSessions {
        self.prefix = prefix.to_string();
        self
    }

    fn key(&self, call_sid: &str) -> String {
        format!("{}{call_sid}", self.prefix)
    }
}

#[async_trait]
impl SessionStore for RedisSessions {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn shared(&self) -> bool {
        true
    }

    async fn load(&self, call_sid: &str) -> Result<Option<LiveCall>, SessionError> {
        let mut connection = self.connection.clone();
        let saved: Option<String> = connection.get(self.key(call_sid)).await?;
        Ok(match saved {
            Some(json) => Some(serde_json::from_str(&json)?),
            None => None,
        })
    }

    async fn save(
        &self,
        call_sid: &str,
        call: &LiveCall,
        ttl: Duration,
    ) -> Result<(), SessionError> {
        let json = serde_json::to_string(call)?;
        let mut connection = self.connection.clone();
        let () = connection
            .set_ex(self.key(call_sid), json, ttl.as_secs().max(1))
            .await?;
        Ok(())
    }

    async fn remove(&self, call_sid: &str) -> Result<(), SessionError> {
        let mut connection = self.connection.clone();
        let _: u64 = connection.del(self.key(call_sid)).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), SessionError> {
        let mut connection = self.connection.clone();
        let _: String = redis::cmd("PING").query_async(&mut connection).await?;
        Ok(())
    }
}

/// Any store, with every operation given at most `deadline`: an unreachable Redis must fail
/// a turn fast (the caller goes to a person) rather than hold the webhook past Twilio's 15 s.
pub struct DeadlineSessions {
    inner: Arc<dyn SessionStore>,
    deadline: Duration,
}

impl DeadlineSessions {
    pub fn new(inner: Arc<dyn SessionStore>, deadline: Duration) -> DeadlineSessions {
        DeadlineSessions { inner, deadline }
    }

    async fn bounded<T>(
        &self,
        operation_name: &'static str,
        operation: impl Future<Output = Result<T, SessionError>>,
    ) -> Result<T, SessionError> {
        let began = Instant::now();
        let done = tokio::time::timeout(self.deadline, operation)
            .await
            .unwrap_or(Err(SessionError::TimedOut(self.deadline)));
        let took = began.elapsed();
        crate::telemetry::provider(self.inner.name(), operation_name, took, done.is_err());
        done
    }
}

#[async_trait]
impl SessionStore for DeadlineSessions {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn shared(&self) -> bool {
        self.inner.shared()
    }

    async fn load(&self, call_sid: &str) -> Result<Option<LiveCall>, SessionError> {
        self.bounded("load", self.inner.load(call_sid)).await
    }

    async fn save(
        &self,
        call_sid: &str,
        call: &LiveCall,
        ttl: Duration,
    ) -> Result<(), SessionError> {
        self.bounded("save", self.inner.save(call_sid, call, ttl))
            .await
    }

    async fn remove(&self, call_sid: &str) -> Result<(), SessionError> {
        self.bounded("remove", self.inner.remove(call_sid)).await
    }

    async fn ping(&self) -> Result<(), SessionError> {
        self.bounded("ping", self.inner.ping()).await
    }
}

/// Opens the store named in configuration: `memory`, or a `redis://` URL.
pub async fn open(spec: &str) -> Result<Arc<dyn SessionStore>, SessionError> {
    if spec.starts_with("redis://") || spec.starts_with("rediss://") {
        Ok(Arc::new(RedisSessions::connect(spec).await?))
    } else if spec == "memory" {
        Ok(Arc::new(MemorySessions::new()))
    } else {
        Err(SessionError::Unknown(spec.to_string()))
    }
}
