//! What templates and conditions can see: the conversation so far, the call and the business.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::Turn;
use crate::session::{CallInfo, Session};

#[derive(Serialize)]
struct Context<'a> {
    business: &'a minijinja::Value,
    call: &'a CallInfo,
    slots: &'a BTreeMap<String, Value>,
    vars: &'a BTreeMap<String, Value>,
    result: &'a Value,
    /// What the call has achieved so far (`booked`, `answered`, ...), in order: empty until
    /// something was done ("How can I help?" rather than "anything else?").
    done: Vec<&'static str>,
    /// Business-local time, `YYYY-MM-DDTHH:MM`.
    now: String,
    today: String,
    attempt: u32,
    silences: u32,
    utterance: Option<&'a str>,
    flow: Option<&'a str>,
    state: Option<&'a str>,
    #[serde(flatten)]
    extra: Option<&'a Value>,
}

impl Turn<'_> {
    pub(crate) fn context(&self, s: &Session, extra: Option<Value>) -> minijinja::Value {
        let now = self.now;
        let ctx = Context {
            business: &self.engine.business_context,
            call: &s.call,
            slots: &s.slots,
            vars: &s.vars,
            result: &s.result,
            done: s.outcomes.iter().map(|o| o.as_str()).collect(),
            now: now.strftime("%Y-%m-%dT%H:%M").to_string(),
            today: now.date().to_string(),
            attempt: s.attempts,
            silences: s.silences,
            utterance: s.heard.last().map(String::as_str),
            flow: s.flow.as_deref(),
            state: s.state.as_deref(),
            extra: extra.as_ref(),
        };
        minijinja::Value::from(minijinja::value::Serde(&ctx))
    }
}
