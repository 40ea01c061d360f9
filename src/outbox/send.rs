//! How each kind of outbox message is sent: texts and reminder calls through Twilio's REST API,
//! webhooks as signed JSON POSTs. A sender only reports how one attempt went; the worker decides
//! about retries.

use std::sync::Arc;
use std::time::Duration;

use crate::storage::OutboxMessage;
use crate::twilio::rest::{OutboundCall, RestError, TwilioRest, is_transient};

/// The kinds of message the outbox holds.
pub const SMS: &str = "sms";
pub const WEBHOOK: &str = "webhook";
/// A reminder call: the body is the path (and query) Twilio fetches once it is answered.
pub const CALL: &str = "call";

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Delivery {
    /// Sent; the provider's id for it.
    Sent(String),
    /// Not sent this time; worth trying again.
    Transient(String),
    /// Refused for good.
    Refused(String),
    /// Not sent on purpose.
    Skipped(String),
}

impl From<RestError> for Delivery {
    fn from(error: RestError) -> Delivery {
        if is_transient(&error) {
            Delivery::Transient(error.to_string())
        } else {
            Delivery::Refused(format!("refused: {error}"))
        }
    }
}

/// Numbers that may be texted or called outside production; `None` allows every number.
#[derive(Debug, Clone, Default)]
pub struct Allowlist(pub Option<Vec<String>>);

impl Allowlist {
    /// From a list given on the command line: blanks dropped, empty means everyone.
    pub fn from_list(numbers: Vec<String>) -> Allowlist {
        let numbers: Vec<String> = numbers
            .into_iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        Allowlist((!numbers.is_empty()).then_some(numbers))
    }

    fn allows(&self, number: &str) -> bool {
        self.0
            .as_ref()
            .is_none_or(|numbers| numbers.iter().any(|n| n == number))
    }
}

/// Sends texts from the business's number.
#[derive(Clone)]
pub struct SmsSender {
    pub twilio: Arc<TwilioRest>,
    /// The number texts come from (the business's published number).
    pub from: String,
    pub allow: Allowlist,
}

impl SmsSender {
    pub(super) async fn send(&self, message: &OutboxMessage, opted_out: bool) -> Delivery {
        if !self.allow.allows(&message.recipient) {
            return Delivery::Skipped("not on the allowlist".into());
        }
        if opted_out {
            return Delivery::Skipped("the number opted out (STOP)".into());
        }
        if message.attempts > 1 {
            // An earlier attempt may have reached Twilio before its worker died or timed out:
            // a text Twilio already holds is marked sent, not sent again.
            let (from, to) = (&self.from, &message.recipient);
            match self.twilio.find_sent_sms(from, to, &message.body).await {
                Ok(Some(sid)) => return Delivery::Sent(sid),
                Ok(None) => {}
                Err(error) if is_transient(&error) => return error.into(),
                // A list Twilio will not give is no reason to leave the text unsent.
                Err(error) => {
                    tracing::warn!(id = message.id, %error, "could not check for an earlier send")
                }
            }
        }
        match self
            .twilio
            .send_sms(&self.from, &message.recipient, &message.body)
            .await
        {
            Ok(sid) => Delivery::Sent(sid),
            Err(error) => error.into(),
        }
    }
}

/// Places reminder calls from the business's number; Twilio fetches their TwiML from this
/// server's public URL.
#[derive(Clone)]
pub struct CallSender {
    pub twilio: Arc<TwilioRest>,
    pub from: String,
    /// The URL Twilio reaches the servers at, without a trailing slash.
    pub public_url: String,
    pub allow: Allowlist,
}

impl CallSender {
    pub(super) async fn send(&self, message: &OutboxMessage) -> Delivery {
        if !self.allow.allows(&message.recipient) {
            return Delivery::Skipped("not on the allowlist".into());
        }
        let url = format!("{}{}", self.public_url, message.body);
        let status_callback = format!("{}/twilio/status", self.public_url);
        let call = OutboundCall {
            from: &self.from,
            to: &message.recipient,
            url: &url,
            status_callback: &status_callback,
        };
        match self.twilio.place_call(&call).await {
            Ok(sid) => Delivery::Sent(sid),
            Err(error) => error.into(),
        }
    }
}

/// Posts webhooks, signed with a secret the receiver shares.
#[derive(Clone)]
pub struct WebhookSender {
    http: reqwest::Client,
    secret: String,
}

/// A receiver that takes longer is treated as down, and the delivery retried.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

impl WebhookSender {
    pub fn new(secret: String) -> Result<WebhookSender, reqwest::Error> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(WebhookSender { http, secret })
    }

    pub(super) async fn send(&self, message: &OutboxMessage) -> Delivery {
        let now = jiff::Timestamp::now().as_second();
        let signature = super::webhooks::signature_header(&self.secret, now, &message.body);
        let event = serde_json::from_str::<serde_json::Value>(&message.body)
            .ok()
            .and_then(|payload| payload["event"].as_str().map(str::to_string))
            .unwrap_or_default();
        let sent = self
            .http
            .post(&message.recipient)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::USER_AGENT, "Frontdesk-Webhooks/1")
            .header(super::webhooks::SIGNATURE_HEADER, signature)
            .header(super::webhooks::EVENT_HEADER, event)
            .header(super::webhooks::DELIVERY_HEADER, message.id.to_string())
            .body(message.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    Delivery::Sent(format!("HTTP {}", status.as_u16()))
                } else if status.as_u16() == 429 || status.is_server_error() {
                    Delivery::Transient(format!("the receiver answered HTTP {status}"))
                } else {
                    Delivery::Refused(format!("refused: the receiver answered HTTP {status}"))
                }
            }
            Err(error) => Delivery::Transient(format!("could not reach the receiver: {error}")),
        }
    }
}
