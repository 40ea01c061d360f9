//! Server configuration: one plain struct the handlers read (the `serve` command's flags resolve
//! into it, see `cli/serve.rs`).

use std::net::SocketAddr;
use std::time::Duration;

use clap::ValueEnum;
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

/// See [`ServerConfig::stream_token_ttl`].
pub(crate) const STREAM_TOKEN_TTL: Duration = Duration::from_secs(120);

/// Resolved server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Base URL Twilio reaches us at, e.g. `https://frontdesk.example.com`.
    pub public_url: String,
    pub mode: Mode,
    /// `None` only when signature checks are off.
    pub auth_token: Option<String>,
    /// A Twilio Webhooks Rule's shared key: checks requests Twilio signs with HMAC-SHA256
    /// (`X-Twilio-Webhooks-Signature-Settings`) instead of the auth token.
    pub webhook_shared_key: Option<String>,
    /// Live calls beyond which a new call is refused with 503 (Twilio then uses the number's
    /// fallback URL); `None`: no limit.
    pub max_calls: Option<usize>,
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
    /// The owner's token for `/dashboard` and its API; without one the dashboard is off.
    pub dashboard_token: Option<String>,
}

impl ServerConfig {
    /// Defaults for a server on loopback (tests and the local softphone).
    pub fn local(listen: SocketAddr, auth_token: &str) -> ServerConfig {
        ServerConfig {
            listen,
            public_url: format!("http://{listen}"),
            mode: Mode::Gather,
            auth_token: Some(auth_token.to_string()),
            webhook_shared_key: None,
            max_calls: None,
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
            dashboard_token: None,
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
