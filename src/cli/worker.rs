//! `frontdesk worker`: sends what the outbox holds, on its own, beside (or instead of) the
//! workers inside `frontdesk serve`. Any number may share one database.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Twilio auth token: signs the REST calls that send texts.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub twilio_auth_token: Option<String>,
    /// Twilio account SID.
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    pub twilio_account_sid: Option<String>,
    /// Twilio REST API base URL (a fake's address in local trials).
    #[arg(long, env = "TWILIO_API_URL", default_value = "https://api.twilio.com")]
    pub twilio_api_url: String,
    /// Outside production: the only numbers that may be texted, comma-separated.
    #[arg(long, env = "FRONTDESK_TEXTS_ALLOW", value_delimiter = ',')]
    pub texts_allow: Vec<String>,
    /// Signs the webhooks configured in config/business.yaml (docs/webhooks.md).
    #[arg(long, env = "FRONTDESK_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// The URL Twilio reaches `frontdesk serve` at: reminder calls fetch their flow there.
    #[arg(long, env = "FRONTDESK_PUBLIC_URL")]
    pub public_url: Option<String>,
}

pub fn run(project: &std::path::Path, database: &str, args: WorkerArgs) -> Result<ExitCode> {
    let engine = std::sync::Arc::new(super::runtime::engine(project)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let storage = super::runtime::storage_for(database, engine.business()).await?;
        let config = super::texting::OutboxConfig {
            account: super::texting::TwilioAccount {
                account_sid: args.twilio_account_sid.unwrap_or_default(),
                auth_token: args.twilio_auth_token.filter(|t| !t.is_empty()),
                api_url: args.twilio_api_url,
            },
            texts_on: true,
            allow: args.texts_allow,
            webhook_secret: args.webhook_secret,
            public_url: args.public_url,
        };
        let outbox = super::texting::outbox(config, &engine, &storage)?;
        let Some(worker) = outbox.worker else {
            storage.close().await;
            bail!("nothing to send: neither texts nor webhooks are set up");
        };
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let planner = match &outbox.texts {
            Some(texts) => Some(super::texting::spawn_planner(
                texts,
                &engine,
                &storage,
                None,
                stopped.clone(),
            )?),
            None => None,
        };
        let sending = tokio::spawn(worker.run(stopped));
        eprintln!("frontdesk worker: sending the outbox of {database}; Ctrl-C stops");
        crate::server::shutdown_signal().await;
        let _ = stop.send(true);
        let _ = sending.await;
        if let Some(planner) = planner {
            let _ = planner.await;
        }
        storage.close().await;
        eprintln!("frontdesk worker: stopped");
        Ok(ExitCode::SUCCESS)
    })
}
