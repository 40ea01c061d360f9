//! Twilio retries a webhook that timed out: the same CallSid and turn get the same TwiML back,
//! and the turn does not run twice (no second booking, no turn recorded twice).

use frontdesk_engine::script::{CallerAction, ScriptCursor};
use frontdesk_telephony::twiml::{self, Verb};
use frontdesk_testkit::phone::new_call_sid;

use crate::support::replay::TestServer;
use crate::twilio_gather::{engine, post_signed, script, webhook_fields};

/// The Gather in a TwiML answer: its action URL and the slot it asks for.
fn gather_of(body: &str) -> Option<(String, Option<String>)> {
    twiml::parse(body)
        .unwrap()
        .into_iter()
        .find_map(|verb| match verb {
            Verb::Gather(gather) => {
                let slot = gather
                    .action
                    .split_once("slot=")
                    .map(|(_, slot)| slot.to_string());
                Some((gather.action, slot))
            }
            _ => None,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_webhook_sent_twice_books_once_and_answers_the_same() {
    let script = script("booking_all_in_one");
    let server = TestServer::start_fitted(engine(), &script, |driver, _| driver)
        .await
        .unwrap();
    let sid = new_call_sid();
    let caller = script.caller_id.clone().unwrap();
    let fields = |extra: &[(&str, &str)]| {
        let mut fields = webhook_fields(&sid, extra);
        fields.retain(|(k, _)| k != "From");
        fields.push(("From".into(), caller.clone()));
        fields
    };
    let mut cursor = ScriptCursor::new(&script);
    let mut url = format!("{}/twilio/voice", server.line.server);
    let mut params = fields(&[]);
    let mut requests = 0;
    loop {
        let first = post_signed(&url, &params).await.text().await.unwrap();
        let again = post_signed(&url, &params).await.text().await.unwrap();
        assert_eq!(first, again, "a retry of {url} was answered differently");
        requests += 1;
        let Some((action, slot)) = gather_of(&first) else {
            break;
        };
        assert!(action.contains(&format!("turn={requests}")), "{action}");
        let CallerAction::Say(text) = cursor.next(slot.as_deref()) else {
            panic!("the script ran out at {action}");
        };
        params = fields(&[("SpeechResult", &text), ("Confidence", "0.9")]);
        url = action;
    }
    let stored = server.stored(&sid).await.unwrap();
    assert_eq!(stored.outcome, "booked");
    assert_eq!(stored.appointments.len(), 1, "{:?}", stored.appointments);
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    let caller_turns = record
        .turns
        .iter()
        .filter(|t| t.speaker == frontdesk::storage::Speaker::Caller)
        .count();
    assert_eq!(caller_turns, requests - 1, "{:?}", record.turns);
    server.shutdown().await;
}
