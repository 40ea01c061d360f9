//! `cargo phone --answer-calls human|machine`: instead of calling the server, answer the calls
//! it places through the fake Twilio REST API (reminder calls), as Twilio would once the person
//! or the answering machine picked up: the call's URL is requested with `AnsweredBy`, and the
//! conversation goes on in gather mode.

use std::time::Duration;

use anyhow::{Result, bail};
use clap::ValueEnum;
use frontdesk_testkit::fake_twilio_rest::{CreatedCall, FakeTwilioRest};
use frontdesk_testkit::phone::{
    Answer, Caller, PhoneLine, PhoneReport, gather_call_at, http_client,
};

/// Who picks up a call the server places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Answerer {
    /// A person: type the lines (or play --script).
    Human,
    /// An answering machine: the server should leave a message and hang up.
    Machine,
}

impl Answerer {
    /// Twilio's `AnsweredBy` once detection is done (`MachineDetection=DetectMessageEnd`).
    fn answered_by(self) -> &'static str {
        match self {
            Answerer::Human => "human",
            Answerer::Machine => "machine_end_beep",
        }
    }
}

/// Waits for the server to place a call through `rest`, then answers it as `who`.
pub async fn answer_next_call(
    rest: &FakeTwilioRest,
    line: &PhoneLine,
    who: Answerer,
    caller: &mut dyn Caller,
    answered: usize,
    wait: Duration,
) -> Result<PhoneReport> {
    let call = next_call(rest, answered, wait).await?;
    let Some(url) = call.url.clone() else {
        bail!(
            "call {} was placed with TwiML, not a URL to answer at",
            call.call_sid
        );
    };
    println!(
        "(the server called {} from {}; answering as {:?}: {url})",
        call.to, call.from, who
    );
    let line = PhoneLine {
        from: call.from.clone(),
        to: call.to.clone(),
        ..line.clone()
    };
    let answer = Answer {
        url,
        fields: vec![
            ("Direction".into(), "outbound-api".into()),
            ("AnsweredBy".into(), who.answered_by().into()),
        ],
    };
    Ok(gather_call_at(&http_client(), &line, caller, &call.call_sid, &answer).await)
}

/// The call after the first `answered` ones, once the server has placed it.
async fn next_call(rest: &FakeTwilioRest, answered: usize, wait: Duration) -> Result<CreatedCall> {
    let give_up = tokio::time::Instant::now() + wait;
    loop {
        if let Some(call) = rest.created_calls().into_iter().nth(answered) {
            return Ok(call);
        }
        if tokio::time::Instant::now() >= give_up {
            bail!(
                "the server placed no call in {} s (is it started with --twilio-api-url {} and \
                 texts.reminder_by: call, with a visit tomorrow?)",
                wait.as_secs(),
                rest.base_url()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
