//! Texting for `serve` and `worker`: the outbox worker and the texts it sends, when there are
//! Twilio credentials to send with and a business number to send from.

use std::sync::Arc;

use anyhow::{Context, Result};
use frontdesk_engine::Engine;
use tokio::sync::Notify;

use crate::outbox::{OutboxWorker, Texts, WorkerOptions};
use crate::storage::Storage;
use crate::twilio::rest::{TwilioRest, TwilioRestConfig};

/// The Twilio account texts are sent through.
pub struct TwilioAccount {
    pub account_sid: String,
    pub auth_token: Option<String>,
    /// `https://api.twilio.com`, or a fake's address.
    pub api_url: String,
}

/// The texts calls queue and the worker that sends them; `None` (said on stderr) when texts
/// cannot be sent. `allow`, when not empty, is the only numbers that may be texted.
pub fn outbox(
    account: &TwilioAccount,
    engine: &Arc<Engine>,
    storage: &Arc<dyn Storage>,
    allow: Vec<String>,
) -> Result<Option<(Texts, OutboxWorker)>> {
    let from = engine.business().phones.main.clone();
    let (Some(auth_token), false, Some(from)) = (
        account.auth_token.clone(),
        account.account_sid.is_empty(),
        from,
    ) else {
        eprintln!(
            "frontdesk: texts off (they need TWILIO_AUTH_TOKEN, TWILIO_ACCOUNT_SID and \
             phones.main in config/business.yaml)"
        );
        return Ok(None);
    };
    let twilio = TwilioRest::new(TwilioRestConfig {
        base_url: account.api_url.clone(),
        account_sid: account.account_sid.clone(),
        auth_token,
    })
    .context("building the Twilio REST client for texts")?;
    let mut options = WorkerOptions::new(from.clone());
    let allow: Vec<String> = allow
        .into_iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    options.allow = (!allow.is_empty()).then_some(allow);
    eprintln!(
        "frontdesk: texts on, from {from}{}",
        match &options.allow {
            Some(allow) => format!(" (only to {})", allow.join(", ")),
            None => String::new(),
        }
    );
    let queued = Arc::new(Notify::new());
    let texts = Texts::new(engine.clone(), storage.clone(), queued.clone());
    let worker = OutboxWorker::new(storage.clone(), Arc::new(twilio), options, queued);
    Ok(Some((texts, worker)))
}

/// Plans the day-before reminders every minute, until `stop` turns true.
pub fn spawn_reminders(
    texts: &Texts,
    engine: &Arc<Engine>,
    storage: &Arc<dyn Storage>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>> {
    let zone = crate::clock::business_zone(engine.business())?;
    let business = Arc::new(engine.business().clone());
    Ok(tokio::spawn(crate::outbox::reminders::run(
        texts.clone(),
        storage.clone(),
        business,
        zone,
        stop,
    )))
}
