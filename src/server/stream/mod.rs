//! Stream mode: a Twilio Media Stream WebSocket per call, with streaming speech recognition,
//! streaming synthesis and barge-in.

mod call;
mod opening;
pub mod playback;
pub mod prompt_cache;
mod resume;
#[cfg(test)]
mod tests;
pub mod token;

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use frontdesk_engine::business::Business;

use super::config::TtsChoice;
use super::{AppState, ServerConfig, signature};
use crate::call::CallDriver;
use crate::speech::deepgram_stt::{DeepgramStt, DeepgramSttConfig};
use crate::speech::deepgram_tts::{DeepgramTts, DeepgramTtsConfig};
use crate::speech::local_tts::LocalTts;
use crate::speech::{ProviderHealth, SpeechToText, TextToSpeech, TtsOptions};
use crate::twilio::rest::{TwilioRest, TwilioRestConfig};
use prompt_cache::PromptCache;
pub(super) use resume::{connect, stream_ended};

/// Largest frame we accept from Twilio. Media frames are ~400 bytes; anything near this is not
/// Twilio.
const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The providers and clients stream-mode calls share.
#[derive(Clone)]
pub struct StreamServices {
    pub stt: Arc<dyn SpeechToText>,
    pub tts: Arc<dyn TextToSpeech>,
    pub tts_options: TtsOptions,
    pub rest: Arc<TwilioRest>,
    pub cache: Arc<PromptCache>,
    pub language: String,
    /// Words recognition should favour: location names, the business name.
    pub keyterms: Vec<String>,
}

impl StreamServices {
    pub fn new(
        stt: Arc<dyn SpeechToText>,
        tts: Arc<dyn TextToSpeech>,
        voice: &str,
        rest: Arc<TwilioRest>,
        business: &Business,
    ) -> StreamServices {
        let mut keyterms = vec![business.name.clone()];
        for location in &business.locations {
            keyterms.push(location.name.clone());
        }
        StreamServices {
            stt,
            tts,
            tts_options: TtsOptions {
                call_sid: String::new(),
                voice: voice.to_string(),
            },
            rest,
            cache: Arc::new(PromptCache::new(512)),
            language: business
                .persona
                .language
                .clone()
                .unwrap_or_else(|| "en-US".into()),
            keyterms,
        }
    }

    pub async fn from_config(config: &ServerConfig, business: &Business) -> Result<StreamServices> {
        let Some(auth_token) = config.auth_token.clone() else {
            bail!(
                "stream mode transfers and ends calls through Twilio's REST API: set \
                 TWILIO_AUTH_TOKEN and TWILIO_ACCOUNT_SID (signature checks cannot be off)"
            );
        };
        if config.account_sid.is_empty() {
            bail!("stream mode needs TWILIO_ACCOUNT_SID for REST transfers and hang-ups");
        }
        let rest = TwilioRest::new(TwilioRestConfig {
            base_url: config.twilio_api_url.clone(),
            account_sid: config.account_sid.clone(),
            auth_token,
        })
        .context("building the Twilio REST client")?;
        let stt = DeepgramStt::new(DeepgramSttConfig {
            url: config.deepgram_stt_url.clone(),
            api_key: config.deepgram_api_key.clone(),
            ..DeepgramSttConfig::default()
        });
        let (tts, voice): (Arc<dyn TextToSpeech>, String) = match config.tts {
            TtsChoice::Espeak => (Arc::new(LocalTts::default()), "en-us".to_string()),
            TtsChoice::Deepgram => (
                Arc::new(DeepgramTts::new(DeepgramTtsConfig {
                    url: config.deepgram_tts_url.clone(),
                    api_key: config.deepgram_api_key.clone(),
                    model: config.deepgram_voice.clone(),
                })),
                config.deepgram_voice.clone(),
            ),
        };
        let services = StreamServices::new(Arc::new(stt), tts, &voice, Arc::new(rest), business);
        // Without speech every call would go straight to a person: refuse instead of
        // answering calls that cannot work.
        let broken: Vec<String> = services
            .health()
            .await
            .into_iter()
            .filter(|provider| !provider.ok)
            .map(|provider| format!("{}: {}", provider.provider, provider.detail))
            .collect();
        if !broken.is_empty() {
            bail!(
                "stream mode cannot hear or speak to callers:\n  {}\n(a local \
                 Deepgram-compatible server needs no key: --deepgram-stt-url and \
                 --deepgram-tts-url; or answer with Twilio's own speech: --mode gather)",
                broken.join("\n  ")
            );
        }
        Ok(services)
    }

    pub async fn health(&self) -> Vec<ProviderHealth> {
        let (stt, tts) = tokio::join!(self.stt.health(), self.tts.health());
        vec![stt, tts]
    }

    /// Synthesizes the greeting ahead of the first call, so no caller waits for it.
    pub async fn warm(&self, driver: &CallDriver, now: jiff::civil::DateTime) {
        let engine = &driver.engine;
        let mut session = engine.start(frontdesk_engine::CallInfo {
            id: "warm-up".into(),
            caller: None,
            called: None,
            customer: None,
        });
        let Ok(outputs) = engine.step(&mut session, frontdesk_engine::Input::Start, now) else {
            return;
        };
        for output in outputs {
            if let frontdesk_engine::Output::Say { text, .. } = output {
                match self.tts.synthesize(&text, &self.tts_options).await {
                    Ok(audio) => self.cache.insert(&text, audio),
                    Err(error) => tracing::warn!(%error, "could not pre-synthesize the greeting"),
                }
            }
        }
    }
}

/// `GET /twilio/stream`: Twilio opens the Media Stream.
pub(super) async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    ws: WebSocketUpgrade,
) -> Response {
    if let Err(rejection) = signature::check_upgrade(&state, &headers, &uri) {
        return rejection.into_response();
    }
    let Some(services) = state.stream().cloned() else {
        return (StatusCode::NOT_FOUND, "this server runs in gather mode\n").into_response();
    };
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| call::run(socket, state, services))
}
