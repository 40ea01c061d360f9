//! `frontdesk serve`: its flags (with environment fallbacks), resolved into the server's
//! configuration, and the process around the server: project, database, model, call record.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use jiff::civil::DateTime;

use crate::call::CallDriver;
use crate::recorder::{Recorder, RecorderOptions};
use crate::server::config::{Mode, STREAM_TOKEN_TTL, ServerConfig, TtsChoice};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FRONTDESK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The URL Twilio uses to reach this server (your domain or tunnel), without a trailing
    /// slash. Signatures are checked against it. Defaults to http://LISTEN.
    #[arg(long, env = "FRONTDESK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How calls are carried.
    #[arg(long, env = "FRONTDESK_MODE", value_enum, default_value_t = Mode::Gather)]
    pub mode: Mode,
    /// Twilio auth token: checks X-Twilio-Signature and signs REST calls.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub twilio_auth_token: Option<String>,
    /// The shared key of a Twilio Webhooks Rule, when one signs this server's webhooks with
    /// HMAC-SHA256 instead of the auth token.
    #[arg(long, env = "TWILIO_WEBHOOK_SHARED_KEY", hide_env_values = true)]
    pub twilio_webhook_shared_key: Option<String>,
    /// Live calls this server takes at most; beyond them a new call gets 503 and Twilio tries
    /// the number's fallback URL (docs/operations.md). Live calls are never cut.
    #[arg(long, env = "FRONTDESK_MAX_CALLS")]
    pub max_calls: Option<usize>,
    /// Twilio account SID (stream mode: REST transfers and hang-ups).
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    pub twilio_account_sid: Option<String>,
    /// Twilio REST base URL.
    #[arg(long, env = "TWILIO_API_URL", default_value = "https://api.twilio.com")]
    pub twilio_api_url: String,
    /// Accept requests without a valid X-Twilio-Signature. Local development only: anyone who
    /// can reach the server can then drive calls.
    #[arg(long, env = "FRONTDESK_INSECURE_NO_SIGNATURES")]
    pub insecure_no_signatures: bool,
    /// The owner's token for the dashboard at /dashboard and its JSON API (docs/api.md);
    /// without one the dashboard is off.
    #[arg(long, env = "FRONTDESK_DASHBOARD_TOKEN", hide_env_values = true)]
    pub dashboard_token: Option<String>,
    /// Where Gather-mode calls are kept between webhooks: `memory` or a redis:// URL.
    #[arg(long, env = "FRONTDESK_SESSIONS", default_value = "memory")]
    pub sessions: String,
    /// Stream mode voice.
    #[arg(long, env = "FRONTDESK_TTS", value_enum, default_value_t = TtsChoice::Espeak)]
    pub tts: TtsChoice,
    /// Deepgram API key (stream mode speech recognition; TTS with --tts deepgram).
    #[arg(long, env = "DEEPGRAM_API_KEY", hide_env_values = true)]
    pub deepgram_api_key: Option<String>,
    /// Deepgram live transcription URL.
    #[arg(
        long,
        env = "FRONTDESK_DEEPGRAM_STT_URL",
        default_value = "wss://api.deepgram.com/v1/listen"
    )]
    pub deepgram_stt_url: String,
    /// Deepgram streaming TTS URL.
    #[arg(
        long,
        env = "FRONTDESK_DEEPGRAM_TTS_URL",
        default_value = "wss://api.deepgram.com/v1/speak"
    )]
    pub deepgram_tts_url: String,
    /// Deepgram voice (Aura model) for --tts deepgram.
    #[arg(
        long,
        env = "FRONTDESK_DEEPGRAM_VOICE",
        default_value = "aura-2-thalia-en"
    )]
    pub deepgram_voice: String,
    /// Seconds a shutdown waits for live calls to finish.
    #[arg(long, env = "FRONTDESK_DRAIN_SECONDS", default_value_t = 600)]
    pub drain_seconds: u64,
    /// Seconds without a webhook or stream frame after which a call no longer counts as
    /// live (its status callback was lost), so it cannot hold a shutdown.
    #[arg(long, env = "FRONTDESK_CALL_IDLE_SECONDS", default_value_t = 180)]
    pub call_idle_seconds: u64,
    /// Milliseconds the database may take, in total, for the tool calls of one caller turn
    /// before the tool fails and the flow takes its failure path (an apology and a person).
    #[arg(long, env = "FRONTDESK_TOOL_DEADLINE_MS", default_value_t = 3000)]
    pub tool_deadline_ms: u64,
    /// Milliseconds one session-store operation (Redis) may take before the call is handed to
    /// a person.
    #[arg(long, env = "FRONTDESK_SESSION_DEADLINE_MS", default_value_t = 1000)]
    pub session_deadline_ms: u64,
    /// Where call-record writes go that cannot wait in memory for the database (a long
    /// outage, or a shutdown while it is away); they are written from there when it is back,
    /// after a restart if need be. Default: next to the SQLite file, or `.frontdesk` with
    /// PostgreSQL. One server per directory.
    #[arg(long, env = "FRONTDESK_SPILL_DIR")]
    pub spill_dir: Option<std::path::PathBuf>,
    /// Pretend it is this business-local time (demos and tests), instead of the clock.
    #[arg(long)]
    pub now: Option<DateTime>,
    /// Send no texts, even with Twilio credentials and a business number.
    #[arg(long, env = "FRONTDESK_NO_TEXTS")]
    pub no_texts: bool,
    /// Outside production: the only numbers that may be texted, comma-separated.
    #[arg(long, env = "FRONTDESK_TEXTS_ALLOW", value_delimiter = ',')]
    pub texts_allow: Vec<String>,
    /// Signs the webhooks configured in config/business.yaml (docs/webhooks.md).
    #[arg(long, env = "FRONTDESK_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    #[command(flatten)]
    pub llm: crate::llm::LlmArgs,
}

fn server_config(args: ServeArgs) -> Result<ServerConfig> {
    let public_url = args
        .public_url
        .unwrap_or_else(|| format!("http://{}", args.listen))
        .trim_end_matches('/')
        .to_string();
    if !public_url.starts_with("http://") && !public_url.starts_with("https://") {
        bail!("--public-url must start with http:// or https:// (got `{public_url}`)");
    }
    let auth_token = args.twilio_auth_token.filter(|t| !t.is_empty());
    if auth_token.is_none() && !args.insecure_no_signatures {
        bail!(
            "set TWILIO_AUTH_TOKEN (or --twilio-auth-token) so Twilio's signatures can be \
             checked; for local development only, --insecure-no-signatures turns the check off"
        );
    }
    Ok(ServerConfig {
        listen: args.listen,
        public_url,
        mode: args.mode,
        auth_token: if args.insecure_no_signatures {
            None
        } else {
            auth_token
        },
        webhook_shared_key: args.twilio_webhook_shared_key.filter(|k| !k.is_empty()),
        max_calls: args.max_calls,
        account_sid: args.twilio_account_sid.unwrap_or_default(),
        twilio_api_url: args.twilio_api_url,
        sessions: args.sessions,
        tts: args.tts,
        deepgram_api_key: args.deepgram_api_key.unwrap_or_default(),
        deepgram_stt_url: args.deepgram_stt_url,
        deepgram_tts_url: args.deepgram_tts_url,
        deepgram_voice: args.deepgram_voice,
        drain_limit: Duration::from_secs(args.drain_seconds),
        call_idle_limit: Duration::from_secs(args.call_idle_seconds),
        tool_deadline: Duration::from_millis(args.tool_deadline_ms),
        session_deadline: Duration::from_millis(args.session_deadline_ms),
        fixed_now: args.now,
        stream_no_input: Duration::from_secs(8),
        stream_token_ttl: STREAM_TOKEN_TTL,
        dashboard_token: args.dashboard_token.filter(|t| !t.trim().is_empty()),
    })
}

/// The `serve` command: project files and database from the global options.
pub fn run(
    project: &std::path::Path,
    database: &str,
    args: ServeArgs,
) -> Result<std::process::ExitCode> {
    let llm = args.llm.clone();
    let (texts_on, allow) = (!args.no_texts, args.texts_allow.clone());
    let webhook_secret = args.webhook_secret.clone();
    let spill_dir = args
        .spill_dir
        .clone()
        .unwrap_or_else(|| default_spill_dir(database));
    let config = server_config(args)?;
    let (engine, model) = super::runtime::engine_and_model(project, &llm)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let storage = super::runtime::storage_for(database, engine.business()).await?;
        if model.is_some() {
            tracing::info!(url = ?llm.llm_url, model = %llm.llm_model, "a language model reads what the rules miss and phrases knowledge answers");
        }
        let options = RecorderOptions {
            spill_dir: Some(spill_dir.clone()),
            ..RecorderOptions::default()
        };
        let recorder = Recorder::open(storage.clone(), options)
            .await
            .with_context(|| format!("opening the spill directory {}", spill_dir.display()))?;
        let mut driver = CallDriver::new(engine.clone(), storage.clone())
            .with_recorder(recorder.clone())
            .with_model(model)
            .with_tool_deadline(config.tool_deadline);
        let (stop_worker, worker_stopped) = tokio::sync::watch::channel(false);
        let outbox = super::texting::outbox(
            super::texting::OutboxConfig {
                account: super::texting::TwilioAccount {
                    account_sid: config.account_sid.clone(),
                    auth_token: config.auth_token.clone(),
                    api_url: config.twilio_api_url.clone(),
                },
                texts_on,
                allow,
                webhook_secret,
                public_url: Some(config.public_url.clone()),
            },
            &engine,
            &storage,
        )?;
        let mut background = Vec::new();
        if let Some(texts) = outbox.texts {
            background.push(super::texting::spawn_planner(
                &texts,
                &engine,
                &storage,
                config.fixed_now,
                worker_stopped.clone(),
            )?);
            driver = driver.with_texts(texts);
        }
        if let Some(webhooks) = outbox.webhooks {
            driver = driver.with_webhooks(webhooks);
        }
        if let Some(worker) = outbox.worker {
            background.push(tokio::spawn(worker.run(worker_stopped)));
        }
        let served = crate::server::run(config, driver).await;
        let _ = stop_worker.send(true);
        for task in background {
            let _ = task.await;
        }
        // Before the pool closes: what the database did not take goes to the spill file.
        recorder.close().await;
        storage.close().await;
        served.map(|()| std::process::ExitCode::SUCCESS)
    })
}

/// Next to the SQLite file, or `.frontdesk` (where `chat` keeps its database) with PostgreSQL.
fn default_spill_dir(database: &str) -> std::path::PathBuf {
    match crate::storage::sqlite_file(database) {
        Some(file) => match file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        },
        None => std::path::PathBuf::from(".frontdesk"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::default_spill_dir;

    #[test]
    fn the_spill_directory_defaults_to_the_sqlite_files_directory() {
        let dir = default_spill_dir;
        assert_eq!(
            dir("sqlite://.frontdesk/frontdesk.db"),
            Path::new(".frontdesk")
        );
        assert_eq!(dir("sqlite:///var/lib/fd/fd.db"), Path::new("/var/lib/fd"));
        assert_eq!(dir("frontdesk.db"), Path::new("."));
        assert_eq!(
            dir("postgres://postgres@127.0.0.1/test"),
            Path::new(".frontdesk")
        );
    }
}
