//! Webhooks: other systems (field-service software) told about bookings, moves, cancellations,
//! emergencies and ended calls as JSON POSTs, queued in the outbox and retried like texts.
//!
//! Each POST is signed: `Frontdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
//! `<t>.<body>` with the shared secret, so a receiver can check the sender and refuse replays
//! (docs/webhooks.md).

use std::sync::Arc;

use frontdesk_engine::business::{Webhook, WebhookEvent};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::Notify;

use super::send::WEBHOOK;
use crate::storage::{NewMessage, Storage};

pub const SIGNATURE_HEADER: &str = "Frontdesk-Signature";
pub const EVENT_HEADER: &str = "Frontdesk-Event";
/// The outbox row's id: the same for every retry of one delivery.
pub const DELIVERY_HEADER: &str = "Frontdesk-Delivery";

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn signature_header(secret: &str, unix_seconds: i64, body: &str) -> String {
    format!(
        "t={unix_seconds},v1={}",
        signature(secret, unix_seconds, body)
    )
}

/// The hex HMAC-SHA256 of `<t>.<body>` with `secret`.
pub fn signature(secret: &str, unix_seconds: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Queues webhooks for the systems that want each event.
#[derive(Clone)]
pub struct Webhooks {
    targets: Arc<Vec<Webhook>>,
    storage: Arc<dyn Storage>,
    queued: Arc<Notify>,
}

impl Webhooks {
    pub fn new(targets: Vec<Webhook>, storage: Arc<dyn Storage>, queued: Arc<Notify>) -> Webhooks {
        Webhooks {
            targets: Arc::new(targets),
            storage,
            queued,
        }
    }

    /// Queues `event` for every system that wants it. `key` names what happened (an
    /// appointment and call) so that the same event is queued once, and receivers see the same
    /// `id` on a redelivery. Failures are logged, never passed on.
    pub async fn notify(&self, event: WebhookEvent, call_id: &str, key: &str, data: Value) {
        let id = format!("{}:{key}", event.as_str());
        let payload = json!({
            "id": id,
            "event": event.as_str(),
            "occurred_at": jiff::Timestamp::now().to_string(),
            "call_id": call_id,
            "data": data,
        });
        let body = payload.to_string();
        for target in self.targets.iter().filter(|t| t.wants(event)) {
            let message = NewMessage {
                kind: WEBHOOK.into(),
                recipient: target.url.clone(),
                body: body.clone(),
                call_id: Some(call_id.to_string()),
                dedupe_key: format!("webhook:{id}:{}", target.url),
                not_before_ms: super::now_ms(),
            };
            super::enqueue(self.storage.as_ref(), &self.queued, &message).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_time_and_body() {
        // Computed independently: Python's hmac.new(secret, b"1700000000." + body, sha256).
        let header = signature_header("whsec_test", 1_700_000_000, r#"{"event":"booked"}"#);
        assert_eq!(
            header,
            "t=1700000000,v1=045645233d37f8ccb890eddaac09492e6e611e94e79e8e281073d7e02fd036d8"
        );
    }
}
