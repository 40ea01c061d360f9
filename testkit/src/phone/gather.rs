//! Gather mode from Twilio's side: post the voice webhook, act on the TwiML, post each caller
//! turn to the Gather's action, follow redirects, dial, hang up.

use std::time::{Duration, Instant};

use super::{
    Caller, PhoneEnding, PhoneLine, PhoneReport, Speaker, base_params, hear_whisper,
    post_completed, post_signed, slot_of,
};
use frontdesk_engine::script::CallerAction;
use frontdesk_telephony::twiml::{self, Verb};

/// Webhooks one call may make before the phone gives up on it.
const MAX_REQUESTS: usize = 80;
/// What Twilio's recognizer reports for clear speech.
const CONFIDENCE: &str = "0.92";

/// Places one call in gather mode and plays `caller` until the call ends.
pub async fn gather_call(
    http: &reqwest::Client,
    line: &PhoneLine,
    caller: &mut dyn Caller,
    call_sid: &str,
) -> PhoneReport {
    let answer = Answer {
        url: format!("{}/twilio/voice", line.server),
        fields: Vec::new(),
    };
    gather_call_at(http, line, caller, call_sid, &answer).await
}

/// Where Twilio fetches a call's first TwiML, and what it adds to every webhook of the call.
#[derive(Debug, Clone)]
pub struct Answer {
    pub url: String,
    /// Fields set on every request (`Direction=outbound-api`, `AnsweredBy=human` for a call
    /// the server placed), replacing the phone's own.
    pub fields: Vec<(String, String)>,
}

/// Plays a call in gather mode from `answer.url` (a call the server placed is answered at the
/// URL it gave Twilio; `line.from` is then the business and `line.to` the person called).
pub async fn gather_call_at(
    http: &reqwest::Client,
    line: &PhoneLine,
    caller: &mut dyn Caller,
    call_sid: &str,
    answer: &Answer,
) -> PhoneReport {
    let began = Instant::now();
    let mut report = PhoneReport::new(call_sid);
    let mut url = answer.url.clone();
    let params_for = |status: &str| {
        let mut params = base_params(line, call_sid, status);
        for (name, value) in &answer.fields {
            params.retain(|(k, _)| k != name);
            params.push((name.clone(), value.clone()));
        }
        params
    };
    let mut params = params_for("ringing");
    'call: for _ in 0..MAX_REQUESTS {
        let sent = Instant::now();
        let body = match post_signed(http, line, &url, &params).await {
            Ok(body) => body,
            Err(error) => {
                report.ending = PhoneEnding::Failed(error);
                break;
            }
        };
        report.turn_latencies.push(sent.elapsed());
        caller.answered_after(sent.elapsed());
        let verbs = match twiml::parse(&body) {
            Ok(verbs) => verbs,
            Err(error) => {
                report.ending = PhoneEnding::Failed(format!("bad TwiML from {url}: {error}"));
                break;
            }
        };
        params = params_for("in-progress");
        for verb in verbs {
            match verb {
                Verb::Say(say) => {
                    caller.heard(&say.text);
                    report.transcript.push((Speaker::Agent, say.text));
                }
                Verb::Pause { .. } => {}
                Verb::Gather(gather) => {
                    for say in gather.prompts {
                        caller.heard(&say.text);
                        report.transcript.push((Speaker::Agent, say.text));
                    }
                    let slot = slot_of(&gather.action);
                    match caller.next(slot.as_deref()) {
                        CallerAction::Say(text) => {
                            report.transcript.push((Speaker::Caller, text.clone()));
                            params.push(("SpeechResult".into(), text));
                            params.push(("Confidence".into(), CONFIDENCE.into()));
                        }
                        CallerAction::Dtmf(digits) => {
                            report
                                .transcript
                                .push((Speaker::Caller, format!("(keypad {digits})")));
                            params.push(("Digits".into(), digits));
                        }
                        CallerAction::Silence => {
                            report
                                .transcript
                                .push((Speaker::Caller, "(silence)".into()));
                        }
                        CallerAction::Hangup => {
                            report
                                .transcript
                                .push((Speaker::Caller, "(hangs up)".into()));
                            report.ending = PhoneEnding::CallerHungUp;
                            break 'call;
                        }
                    }
                    url = gather.action;
                    continue 'call;
                }
                Verb::Redirect { url: next } => {
                    url = next;
                    continue 'call;
                }
                Verb::Dial(dial) => {
                    report.ending = PhoneEnding::Transferred(dial.number.clone());
                    if let Some(url) = &dial.number_url {
                        report.whisper = hear_whisper(http, line, call_sid, url).await;
                    }
                    if let Some(action) = dial.action {
                        // The person answered and the two talked for a minute.
                        let mut done = base_params(line, call_sid, "in-progress");
                        done.push(("DialCallStatus".into(), "completed".into()));
                        done.push(("DialCallDuration".into(), "60".into()));
                        let _ = post_signed(http, line, &action, &done).await;
                    }
                    break 'call;
                }
                Verb::Hangup => {
                    report.ending = PhoneEnding::AgentHungUp;
                    break 'call;
                }
                Verb::Connect(_) => {
                    report.ending = PhoneEnding::Failed(
                        "the server answered with a media stream: it runs in stream mode".into(),
                    );
                    break 'call;
                }
            }
        }
        // The document ran out of verbs: Twilio hangs up.
        report.ending = PhoneEnding::AgentHungUp;
        break;
    }
    let seconds = began.elapsed().max(Duration::from_secs(1)).as_secs();
    post_completed(http, line, call_sid, seconds).await;
    report
}
