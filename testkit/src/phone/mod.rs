//! A fake Twilio that places calls against a running Frontdesk server, the way Twilio would:
//! signed webhooks in gather mode, a real-time Media Stream in stream mode. The caller's side
//! comes from a [`Caller`] (a caller script, or lines typed in a terminal).

mod gather;
mod lost_stream;
mod stream;
mod stream_line;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use gather::{Answer, gather_call, gather_call_at};
pub use stream::{BargeIn, CallerVoice, StreamKit, answer_stream, start_frame, stream_call};

use frontdesk_engine::script::{CallerAction, ScriptCursor};
use frontdesk_telephony::signature;

/// How to reach the server, and who is calling.
#[derive(Debug, Clone)]
pub struct PhoneLine {
    /// The server's public base URL (what it signs against), e.g. `http://127.0.0.1:8080`.
    pub server: String,
    pub auth_token: String,
    pub account_sid: String,
    pub from: String,
    pub to: String,
}

/// The caller's side of a call.
pub trait Caller: Send {
    /// The agent finished a turn and waits; `asked_slot` is the slot it asked for, if known.
    fn next(&mut self, asked_slot: Option<&str>) -> CallerAction;

    /// The agent said this: gather mode's words arrive as text; stream mode's are known when
    /// the fake Deepgram spoke them.
    fn heard(&mut self, _text: &str) {}

    /// The agent began its turn this long after the caller's last words reached the server
    /// (gather: the webhook's round trip; stream: the final transcript to the first audio).
    fn answered_after(&mut self, _latency: Duration) {}
}

impl Caller for ScriptCursor<'_> {
    fn next(&mut self, asked_slot: Option<&str>) -> CallerAction {
        ScriptCursor::next(self, asked_slot)
    }
}

/// How a call ended, from the phone's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneEnding {
    /// The server dialled this number.
    Transferred(String),
    AgentHungUp,
    CallerHungUp,
    /// The call went on past the phone's limit.
    TimedOut,
    /// The server misbehaved (bad status, bad TwiML, broken stream).
    Failed(String),
}

impl std::fmt::Display for PhoneEnding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PhoneEnding::Transferred(to) => write!(f, "transferred to {to}"),
            PhoneEnding::AgentHungUp => f.write_str("the agent hung up"),
            PhoneEnding::CallerHungUp => f.write_str("the caller hung up"),
            PhoneEnding::TimedOut => f.write_str("still going at the phone's time limit"),
            PhoneEnding::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

/// Who said a transcript line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    Agent,
    Caller,
}

/// What one call looked like from the phone.
#[derive(Debug, Clone)]
pub struct PhoneReport {
    pub call_sid: String,
    /// Both sides. Stream mode has the agent's lines when the fake Deepgram spoke them (its
    /// audio names its words); with other speech, only the caller's.
    pub transcript: Vec<(Speaker, String)>,
    pub ending: PhoneEnding,
    /// Gather: webhook round trips. Stream: the recognizer's final transcript to the first
    /// agent audio frame back.
    pub turn_latencies: Vec<Duration>,
    /// Stream: the recognizer's first speech cue to the `clear` that cut the agent off.
    pub barge_in_latencies: Vec<Duration>,
    /// Stream: caller frames sent between the speech cue and the `clear` (0 or 1 means the
    /// server cut the agent off within one 20 ms frame).
    pub barge_in_frames: Vec<u64>,
    /// Stream: `clear` messages received.
    pub clears: u32,
    /// Stream: agent audio that arrived after it was due: the playout ran dry in the middle of
    /// a line (the server fell behind real time).
    pub late_frames: u64,
    /// Stream: 20 ms ticks this phone itself fired late (the load generator fell behind).
    pub late_ticks: u64,
    pub frames_sent: u64,
    /// What the person answering a transfer heard before being connected.
    pub whisper: Option<String>,
    /// Stream: media streams lost mid-call and taken up again through the `<Connect>` action.
    pub reconnects: u32,
}

impl PhoneReport {
    /// A call not yet placed.
    pub fn new(call_sid: &str) -> PhoneReport {
        PhoneReport {
            call_sid: call_sid.to_string(),
            transcript: Vec::new(),
            ending: PhoneEnding::TimedOut,
            turn_latencies: Vec::new(),
            barge_in_latencies: Vec::new(),
            barge_in_frames: Vec::new(),
            clears: 0,
            late_frames: 0,
            late_ticks: 0,
            frames_sent: 0,
            whisper: None,
            reconnects: 0,
        }
    }
}

/// A fresh call SID: `CA` and 32 hex digits, unique within this process and across runs.
pub fn new_call_sid() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let stamp = jiff::Timestamp::now().as_nanosecond() as u64;
    format!("CA{stamp:016x}{:08x}{n:08x}", std::process::id())
}

/// A stream SID: `MZ` and 32 hex digits.
fn stream_sid_for(call_sid: &str) -> String {
    format!("MZ{}", call_sid.trim_start_matches("CA"))
}

/// The fields Twilio puts on every voice webhook.
fn base_params(line: &PhoneLine, call_sid: &str, status: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", line.account_sid.as_str()),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallStatus", status),
        ("Called", line.to.as_str()),
        ("Caller", line.from.as_str()),
        ("Direction", "inbound"),
        ("From", line.from.as_str()),
        ("To", line.to.as_str()),
    ]
    .into_iter()
    // A withheld caller ID leaves From and Caller out.
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// POSTs a signed webhook and returns the body. Non-200 answers are errors.
async fn post_signed(
    http: &reqwest::Client,
    line: &PhoneLine,
    url: &str,
    params: &[(String, String)],
) -> Result<String, String> {
    let signature = signature::compute(&line.auth_token, url, params);
    let response = http
        .post(url)
        .header("X-Twilio-Signature", signature)
        .form(params)
        .send()
        .await
        .map_err(|e| {
            if e.is_connect() {
                format!(
                    "POST {url}: nothing answers there: is `frontdesk serve` running on {}?",
                    line.server
                )
            } else {
                format!("POST {url}: {e}")
            }
        })?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    if status == reqwest::StatusCode::FORBIDDEN {
        return Err(format!(
            "POST {url}: the server refused the signature: give the phone the server's auth token \
             (TWILIO_AUTH_TOKEN or --auth-token)"
        ));
    }
    if !status.is_success() {
        return Err(format!("POST {url}: {status}: {}", body.trim()));
    }
    Ok(body)
}

/// What the person answering a transfer hears first: Twilio fetches the `<Number url>` for the
/// dialled leg and plays it to them before connecting.
async fn hear_whisper(
    http: &reqwest::Client,
    line: &PhoneLine,
    call_sid: &str,
    url: &str,
) -> Option<String> {
    let mut params = base_params(line, call_sid, "in-progress");
    params.push(("ParentCallSid".into(), call_sid.to_string()));
    let body = post_signed(http, line, url, &params).await.ok()?;
    let verbs = frontdesk_telephony::twiml::parse(&body).ok()?;
    let said: Vec<String> = verbs
        .into_iter()
        .filter_map(|verb| match verb {
            frontdesk_telephony::twiml::Verb::Say(say) => Some(say.text),
            _ => None,
        })
        .collect();
    (!said.is_empty()).then(|| said.join(" "))
}

/// Tells the server the call is over, as Twilio's status callback does.
async fn post_completed(http: &reqwest::Client, line: &PhoneLine, call_sid: &str, seconds: u64) {
    let mut params = base_params(line, call_sid, "completed");
    params.push(("CallDuration".into(), seconds.to_string()));
    let url = format!("{}/twilio/status", line.server);
    if let Err(error) = post_signed(http, line, &url, &params).await {
        tracing::warn!(call_id = call_sid, error, "status callback failed");
    }
}

/// An HTTP client for the phone: no proxies, loopback is the point.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// The `slot` query parameter of a Gather action URL, if any.
fn slot_of(action: &str) -> Option<String> {
    let query = action.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "slot")
        .map(|(_, v)| v)
}
