//! The owner's daily digest: with `texts.owner_summary: daily`, no text per call, and one text
//! after `texts.digest_at` counting the day's calls by outcome, queued once however often the
//! planner runs.

use frontdesk_engine::business::OwnerSummary;
use jiff::civil::date;

use crate::texts::{TextingServer, engine_with, messages_reach};
use crate::twilio_gather::script;

const OWNER: &str = "+12145550188";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_gets_one_text_a_day_counting_the_calls() {
    let engine = engine_with(|business| {
        business.phones.owner = Some(OWNER.into());
        business.texts.owner_summary = OwnerSummary::Daily;
    });
    let booking = script("booking_all_in_one");
    let texting = TextingServer::start_with(engine.clone(), &booking).await;
    let (server, fake) = (&texting.server, &texting.fake);
    let booked = server.call(&booking, None).await;
    let emergency = server.call(&script("emergency_gas"), None).await;
    server.stored(&booked.call_sid).await.unwrap();
    server.stored(&emergency.call_sid).await.unwrap();
    // The booking's confirmation and the on-call alert; nothing to the owner per call.
    messages_reach(fake, 2).await;
    assert!(fake.messages().iter().all(|m| m.to != OWNER));

    let business = engine.business();
    let zone = jiff::tz::TimeZone::get(&business.time_zone).unwrap();
    let day = booking.now.date();
    assert_eq!(day, date(2026, 6, 1));
    let storage = server.storage.as_ref();
    let texts = &texting.texts;
    let plan = |at| {
        let now_ms = frontdesk::outbox::now_ms();
        frontdesk::outbox::digest::plan(texts, storage, business, &zone, at, now_ms)
    };
    // Before 18:00, nothing; after, one digest however often it is planned.
    assert!(!plan(day.at(17, 59, 0, 0)).await.unwrap());
    assert!(plan(day.at(18, 0, 0, 0)).await.unwrap());
    assert!(!plan(day.at(18, 1, 0, 0)).await.unwrap());
    messages_reach(fake, 3).await;
    let digests: Vec<_> = fake
        .messages()
        .into_iter()
        .filter(|m| m.to == OWNER)
        .collect();
    assert_eq!(digests.len(), 1, "{digests:?}");
    let body = &digests[0].body;
    assert!(
        body.starts_with("KC Comfort Air, Monday, June 1st: 2 calls (1 booked, 1 emergency)."),
        "{body}"
    );
    // The server's phone line calls from one number.
    let caller = format!("Emergency callers: {}.", server.line.from);
    assert!(body.contains(&caller), "{body}");
    texting.shutdown().await;
}
