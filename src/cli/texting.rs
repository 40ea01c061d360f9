//! The outbox for `serve` and `worker`: the texts and webhooks calls queue, and the worker that
//! sends them, each kind when there is what it needs (Twilio credentials and a business number
//! for texts and reminder calls, a shared secret for webhooks).

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use frontdesk_engine::Engine;
use frontdesk_engine::business::ReminderBy;
use tokio::sync::Notify;

use crate::outbox::{
    Allowlist, CallSender, OutboxWorker, Senders, SmsSender, Texts, WebhookSender, Webhooks,
    WorkerOptions,
};
use crate::storage::Storage;
use crate::twilio::rest::{TwilioRest, TwilioRestConfig};

/// The Twilio account texts and calls go through.
pub struct TwilioAccount {
    pub account_sid: String,
    pub auth_token: Option<String>,
    /// `https://api.twilio.com`, or a fake's address.
    pub api_url: String,
}

/// What the outbox may send.
pub struct OutboxConfig {
    pub account: TwilioAccount,
    /// Send texts (and place reminder calls) at all.
    pub texts_on: bool,
    /// When not empty, the only numbers that may be texted or called.
    pub allow: Vec<String>,
    /// Signs webhooks; without it, configured webhooks are not sent.
    pub webhook_secret: Option<String>,
    /// Where Twilio reaches the servers (reminder calls fetch their TwiML there).
    pub public_url: Option<String>,
}

/// What calls queue, and the worker that sends it.
pub struct Outbox {
    pub texts: Option<Texts>,
    pub webhooks: Option<Webhooks>,
    /// `None` when there is nothing to send.
    pub worker: Option<OutboxWorker>,
}

/// Sets up the outbox, saying on stderr what is on and what is off and why.
pub fn outbox(
    config: OutboxConfig,
    engine: &Arc<Engine>,
    storage: &Arc<dyn Storage>,
) -> Result<Outbox> {
    let business = engine.business();
    let queued = Arc::new(Notify::new());
    let mut senders = Senders::default();
    let allow = Allowlist::from_list(config.allow);
    let from = business.phones.main.clone();
    let account = &config.account;
    let twilio = match (&account.auth_token, account.account_sid.is_empty(), &from) {
        _ if !config.texts_on => {
            eprintln!("frontdesk: texts off (--no-texts)");
            None
        }
        (Some(auth_token), false, Some(from)) => {
            let twilio = TwilioRest::new(TwilioRestConfig {
                base_url: account.api_url.clone(),
                account_sid: account.account_sid.clone(),
                auth_token: auth_token.clone(),
            })
            .context("building the Twilio REST client for texts")?;
            Some((Arc::new(twilio), from.clone()))
        }
        _ => {
            eprintln!(
                "frontdesk: texts off (they need TWILIO_AUTH_TOKEN, TWILIO_ACCOUNT_SID and \
                 phones.main in config/business.yaml)"
            );
            None
        }
    };
    if let Some((twilio, from)) = &twilio {
        senders.sms = Some(SmsSender {
            twilio: twilio.clone(),
            from: from.clone(),
            allow: allow.clone(),
        });
        let only = match &allow.0 {
            Some(numbers) => format!(" (only to {})", numbers.join(", ")),
            None => String::new(),
        };
        eprintln!("frontdesk: texts on, from {from}{only}");
        if business.texts.reminder_by == ReminderBy::Call {
            let Some(public_url) = &config.public_url else {
                bail!(
                    "reminders are by call (texts.reminder_by: call): set --public-url \
                     (FRONTDESK_PUBLIC_URL) so Twilio can reach the call's flow"
                );
            };
            senders.calls = Some(CallSender {
                twilio: twilio.clone(),
                from: from.clone(),
                public_url: public_url.trim_end_matches('/').to_string(),
                allow: allow.clone(),
            });
            eprintln!("frontdesk: reminder calls on, answered at {public_url}/twilio/reminder");
        }
    }
    let texts = twilio
        .is_some()
        .then(|| Texts::new(engine.clone(), storage.clone(), queued.clone()));
    let webhooks = webhooks(
        &config.webhook_secret,
        engine,
        storage,
        &queued,
        &mut senders,
    )?;
    let worker = (senders.sms.is_some() || senders.webhooks.is_some())
        .then(|| OutboxWorker::new(storage.clone(), senders, WorkerOptions::default(), queued));
    Ok(Outbox {
        texts,
        webhooks,
        worker,
    })
}

/// The webhooks of the business, when it has any and the secret to sign them.
fn webhooks(
    secret: &Option<String>,
    engine: &Arc<Engine>,
    storage: &Arc<dyn Storage>,
    queued: &Arc<Notify>,
    senders: &mut Senders,
) -> Result<Option<Webhooks>> {
    let targets = engine.business().webhooks.clone();
    if targets.is_empty() {
        return Ok(None);
    }
    for (i, target) in targets.iter().enumerate() {
        if !(target.url.starts_with("https://") || target.url.starts_with("http://")) {
            bail!(
                "config/business.yaml: webhooks[{i}].url must start with https:// or http:// \
                 (got `{}`)",
                target.url
            );
        }
    }
    let Some(secret) = secret.as_ref().filter(|s| !s.is_empty()) else {
        eprintln!("frontdesk: webhooks off (they need FRONTDESK_WEBHOOK_SECRET to be signed)");
        return Ok(None);
    };
    senders.webhooks =
        Some(WebhookSender::new(secret.clone()).context("building the webhook client")?);
    let urls: Vec<&str> = targets.iter().map(|t| t.url.as_str()).collect();
    eprintln!("frontdesk: webhooks on, to {}", urls.join(", "));
    Ok(Some(Webhooks::new(
        targets,
        storage.clone(),
        queued.clone(),
    )))
}

/// Plans the day-before reminders and the owner's digest every minute (at `fixed_now`, when
/// `serve --now` pretends a time), until `stop` turns true.
pub fn spawn_planner(
    texts: &Texts,
    engine: &Arc<Engine>,
    storage: &Arc<dyn Storage>,
    fixed_now: Option<jiff::civil::DateTime>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>> {
    let zone = crate::clock::business_zone(engine.business())?;
    let business = Arc::new(engine.business().clone());
    Ok(tokio::spawn(crate::outbox::planner::run(
        texts.clone(),
        storage.clone(),
        business,
        zone,
        fixed_now,
        stop,
    )))
}
