//! Server configuration: command-line flags with environment fallbacks, resolved into one
//! plain struct the handlers read.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use jiff::civil::DateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Turn by turn with Twilio's own speech recognition and voices (`<Gather>`).
    Gather,
    /// A live Media Stream with streaming speech-to-text, text-to-speech and barge-in.
    Stream,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Gather => "gather",
            Mode::Stream => "stream",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TtsChoice {
    /// espeak-ng on this machine: no account needed.
    Espeak,
    /// Deepgram Aura over WebSocket (needs DEEPGRAM_API_KEY, or a local fake URL).
    Deepgram,
}

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
    #[command(flatten)]
    pub llm: crate::llm::LlmArgs,
}

/// See [`ServerConfig::stream_token_ttl`].
const STREAM_TOKEN_TTL: Duration = Duration::from_secs(120);

/// Resolved server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Base URL Twilio reaches us at, e.g. `https://frontdesk.example.com`.
    pub public_url: String,
    pub mode: Mode,
    /// `None` only when signature checks are off.
    pub auth_token: Option<String>,
    pub account_sid: String,
    pub twilio_api_url: String,
    pub sessions: String,
    pub tts: TtsChoice,
    pub deepgram_api_key: String,
    pub deepgram_stt_url: String,
    pub deepgram_tts_url: String,
    pub deepgram_voice: String,
    pub drain_limit: Duration,
    /// A call with no webhook or stream frame for this long is not live (see
    /// `--call-idle-seconds`).
    pub call_idle_limit: Duration,
    /// See `--tool-deadline-ms`.
    pub tool_deadline: Duration,
    /// See `--session-deadline-ms`.
    pub session_deadline: Duration,
    pub fixed_now: Option<DateTime>,
    /// Seconds of caller silence in stream mode before the engine hears "no input".
    pub stream_no_input: Duration,
    /// How long the stream token `/twilio/voice` issues stays valid: Twilio opens the stream
    /// within a second or two of reading the TwiML.
    pub stream_token_ttl: Duration,
}

impl ServerConfig {
    pub fn from_args(args: ServeArgs) -> Result<ServerConfig> {
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
        })
    }

    /// Defaults for a server on loopback (tests and the local softphone).
    pub fn local(listen: SocketAddr, auth_token: &str) -> ServerConfig {
        ServerConfig {
            listen,
            public_url: format!("http://{listen}"),
            mode: Mode::Gather,
            auth_token: Some(auth_token.to_string()),
            account_sid: String::new(),
            twilio_api_url: "https://api.twilio.com".into(),
            sessions: "memory".into(),
            tts: TtsChoice::Espeak,
            deepgram_api_key: String::new(),
            deepgram_stt_url: "wss://api.deepgram.com/v1/listen".into(),
            deepgram_tts_url: "wss://api.deepgram.com/v1/speak".into(),
            deepgram_voice: "aura-2-thalia-en".into(),
            drain_limit: Duration::from_secs(600),
            call_idle_limit: Duration::from_secs(180),
            tool_deadline: crate::call::TOOL_DEADLINE,
            session_deadline: Duration::from_secs(1),
            fixed_now: None,
            stream_no_input: Duration::from_secs(8),
            stream_token_ttl: STREAM_TOKEN_TTL,
        }
    }

    /// The WebSocket URL Twilio opens for Media Streams (and signs).
    pub fn stream_url(&self) -> String {
        let rest = self
            .public_url
            .strip_prefix("https://")
            .map(|r| format!("wss://{r}"))
            .or_else(|| {
                self.public_url
                    .strip_prefix("http://")
                    .map(|r| format!("ws://{r}"))
            })
            .unwrap_or_else(|| self.public_url.clone());
        format!("{rest}/twilio/stream")
    }

    pub fn warn_about_insecure_settings(&self) {
        if self.auth_token.is_none() {
            let banner = "WARNING: Twilio signature checks are OFF (--insecure-no-signatures). \
                          Anyone who can reach this server can place fake calls. \
                          Never run like this on a public address.";
            tracing::warn!("{banner}");
            eprintln!("\n!!! {banner}\n");
        }
        if self.public_url.starts_with("http://")
            && !self.public_url.contains("127.0.0.1")
            && !self.public_url.contains("localhost")
        {
            tracing::warn!(public_url = %self.public_url, "the public URL is not https; Twilio requires https and wss");
        }
    }
}
