//! A location's visits as an iCalendar feed: parsed back with an independent RFC 5545 reader.

use std::io::BufReader;

use frontdesk::calendar::feed_key;
use frontdesk_testkit::phone::http_client;

use crate::support::replay::{AUTH_TOKEN, ReplayPace, TestServer};
use crate::twilio_gather::{engine, script};
use frontdesk::server::Mode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booked_visit_shows_in_its_locations_calendar_feed() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    let report = server.call(&script, None).await;
    let stored = server.stored(&report.call_sid).await.unwrap();
    assert_eq!(stored.outcome, "booked");
    let visit = &server
        .storage
        .appointments_for_call(&report.call_sid)
        .await
        .unwrap()[0];
    let http = http_client();
    let url =
        |code: &str, key: &str| format!("{}/calendar/{code}.ics?key={key}", server.line.server);
    let feed = http
        .get(url(&visit.location, &feed_key(AUTH_TOKEN, &visit.location)))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    assert!(
        feed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let text = feed.text().await.unwrap();
    assert!(
        text.lines().all(|l| l.len() <= 76),
        "folded at 75 octets + CR"
    );
    let mut calendars = ical::IcalParser::new(BufReader::new(text.as_bytes()));
    let calendar = calendars.next().unwrap().unwrap();
    assert!(calendars.next().is_none());
    assert_eq!(calendar.events.len(), 1, "{text}");
    let property = |name: &str| {
        calendar.events[0]
            .properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    let zone = jiff::tz::TimeZone::get(&server.engine.business().time_zone).unwrap();
    let start = zone.to_timestamp(visit.start).unwrap();
    assert_eq!(
        property("DTSTART"),
        start.strftime("%Y%m%dT%H%M%SZ").to_string()
    );
    assert_eq!(property("UID"), format!("visit-{}@frontdesk", visit.id));
    assert!(property("SUMMARY").starts_with(&visit.name), "{text}");
    assert_eq!(property("STATUS"), "CONFIRMED");

    // Another location's feed has no visit; a wrong key or place shows nothing at all.
    let other = if visit.location == "DAL" {
        "FTW"
    } else {
        "DAL"
    };
    let empty = http
        .get(url(other, &feed_key(AUTH_TOKEN, other)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!empty.contains("BEGIN:VEVENT"), "{empty}");
    for wrong in [
        url(&visit.location, "0123456789abcdef0123456789abcdef"),
        url(&visit.location, &feed_key(AUTH_TOKEN, other)),
        url("NOWHERE", &feed_key(AUTH_TOKEN, "NOWHERE")),
    ] {
        assert_eq!(
            http.get(&wrong).send().await.unwrap().status(),
            404,
            "{wrong}"
        );
    }
    server.shutdown().await;
}
