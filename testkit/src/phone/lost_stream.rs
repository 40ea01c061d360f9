//! A Media Stream lost in the middle of a call (its server died, the socket broke), from
//! Twilio's side: the `<Connect>` action is requested and its TwiML goes on with the call, and
//! a caller who was cut off says again what the agent did not hear.

use frontdesk_engine::script::CallerAction;
use frontdesk_telephony::twiml::{self, Connect, Verb};

use super::{Caller, PhoneEnding, PhoneLine, base_params, post_signed};

/// What the call does after its stream was lost.
pub(super) enum AfterLoss {
    /// A new stream, after these lines in Twilio's voice.
    Stream(Connect, Vec<String>),
    Over(PhoneEnding),
}

/// Requests the `<Connect>` action (Twilio does when a stream ends without the call being
/// updated) and reads what the call does next. Without an action, the call ends there.
pub(super) async fn after_lost_stream(
    http: &reqwest::Client,
    phone: &PhoneLine,
    call_sid: &str,
    action: Option<&str>,
    why: &str,
) -> Result<AfterLoss, String> {
    let Some(action) = action else {
        return Ok(AfterLoss::Over(PhoneEnding::Failed(why.to_string())));
    };
    let mut url = action.to_string();
    let mut said = Vec::new();
    // A few redirects at most; more is a server in a loop.
    for _ in 0..4 {
        let params = base_params(phone, call_sid, "in-progress");
        // The connection the request went out on may have been the dead server's: once more.
        let body = match post_signed(http, phone, &url, &params).await {
            Ok(body) => body,
            Err(_) => post_signed(http, phone, &url, &params).await?,
        };
        let verbs = twiml::parse(&body).map_err(|e| format!("bad TwiML: {e}"))?;
        let mut redirect = None;
        for verb in verbs {
            match verb {
                Verb::Say(say) => said.push(say.text),
                Verb::Connect(connect) => return Ok(AfterLoss::Stream(connect, said)),
                Verb::Dial(dial) => {
                    return Ok(AfterLoss::Over(PhoneEnding::Transferred(dial.number)));
                }
                Verb::Hangup => return Ok(AfterLoss::Over(PhoneEnding::AgentHungUp)),
                Verb::Redirect { url } => {
                    redirect = Some(url);
                    break;
                }
                Verb::Gather(_) => {
                    return Err("the call went on in gather mode; this phone plays streams".into());
                }
                Verb::Pause { .. } => {}
            }
        }
        match redirect {
            Some(next) => url = next,
            // Nothing more to do: Twilio ends the call.
            None => return Ok(AfterLoss::Over(PhoneEnding::AgentHungUp)),
        }
    }
    Err(format!("{action} redirected too many times"))
}

/// A caller who, cut off mid-call, answers the question asked again after the line comes back
/// with what they said before (the agent may not have heard it), instead of moving on.
pub(super) struct RepeatAfterLoss<'a> {
    caller: &'a mut dyn Caller,
    /// The slot last asked for and what the caller did.
    last: Option<(Option<String>, CallerAction)>,
    /// The line was lost since the caller last spoke.
    lost: bool,
}

impl<'a> RepeatAfterLoss<'a> {
    pub(super) fn new(caller: &'a mut dyn Caller) -> RepeatAfterLoss<'a> {
        RepeatAfterLoss {
            caller,
            last: None,
            lost: false,
        }
    }

    /// The line was lost.
    pub(super) fn lost(&mut self) {
        self.lost = true;
    }
}

impl Caller for RepeatAfterLoss<'_> {
    fn next(&mut self, asked_slot: Option<&str>) -> CallerAction {
        if std::mem::take(&mut self.lost)
            && let Some((slot, action)) = &self.last
            && slot.as_deref() == asked_slot
        {
            return action.clone();
        }
        let action = self.caller.next(asked_slot);
        self.last = Some((asked_slot.map(str::to_string), action.clone()));
        action
    }

    fn heard(&mut self, text: &str) {
        self.caller.heard(text);
    }

    fn answered_after(&mut self, latency: std::time::Duration) {
        self.caller.answered_after(latency);
    }
}
