//! Storage behaviour, one body per scenario run against SQLite and PostgreSQL.

use std::sync::Arc;

use frontdesk::storage::{
    self, AppointmentFilter, AppointmentStatus, CallFilter, CallWrite, NewAppointment, Speaker,
    Storage, StorageError,
};
use jiff::civil::{DateTime, date};
use serde_json::json;

use crate::both_backends;
use crate::support::{business, with_sqlite};

both_backends!(
    reopen_keeps_data,
    booking_and_lookup,
    booking_is_idempotent_per_call,
    concurrent_booking_respects_capacity,
    bookings_arriving_together_each_get_their_own_answer,
    visits_of_several_lengths_never_overlap_beyond_capacity,
    concurrent_reschedule_respects_capacity,
    reschedule_and_cancel,
    the_same_phone_and_start_is_booked_once,
    moving_to_another_location_checks_its_capacity,
    sync_business_tracks_configuration,
    call_records,
    call_records_in_batches,
    calls_are_listed_newest_first_and_filtered,
    calls_are_searched_by_flow_text_and_day,
    owner_reports_read_calls_customers_and_visits,
);

/// Far in the future so "upcoming" is stable; 2030-01-07 is a Monday.
fn at(day: i8, hour: i8) -> DateTime {
    date(2030, 1, day).at(hour, 0, 0, 0)
}

fn now() -> DateTime {
    at(1, 9)
}

fn request(call: &str, location: &str, start: DateTime, name: &str, phone: &str) -> NewAppointment {
    NewAppointment {
        call_id: call.into(),
        location: location.into(),
        start,
        name: name.into(),
        phone: phone.into(),
        issue: "AC blowing warm air".into(),
        minutes: None,
    }
}

async fn reopen_keeps_data(store: Arc<dyn Storage>, url: String) {
    let booked = store
        .book(&request("c1", "DAL", at(7, 9), "Jane Doe", "+12145550001"))
        .await
        .unwrap();
    store.close().await;
    // Reopening runs the migrations again: they must be recognised as applied.
    let again = storage::open(&url).await.unwrap();
    assert_eq!(
        again.get_appointment(booked.id).await.unwrap(),
        Some(booked)
    );
    again.close().await;
}

async fn booking_and_lookup(store: Arc<dyn Storage>, _url: String) {
    let jane = store
        .book(&request("c1", "DAL", at(7, 9), "Jane Doe", "+12145550001"))
        .await
        .unwrap();
    assert_eq!(jane.status, AppointmentStatus::Booked);
    assert_eq!(jane.created_by_call, "c1");
    assert_eq!(jane.updated_by_call, None);
    assert_eq!((jane.location.as_str(), jane.start), ("DAL", at(7, 9)));
    let later = store
        .book(&request("c2", "FTW", at(8, 14), "Jane Doe", "+12145550001"))
        .await
        .unwrap();
    store
        .book(&request("c3", "DAL", at(7, 9), "Bob Roe", "+12145550002"))
        .await
        .unwrap();

    let by_phone = store
        .find_upcoming_by_phone("+12145550001", now())
        .await
        .unwrap();
    assert_eq!(by_phone, vec![jane.clone(), later.clone()]);
    // Visits before `now` are not upcoming.
    let after_first = store
        .find_upcoming_by_phone("+12145550001", at(7, 10))
        .await
        .unwrap();
    assert_eq!(after_first, vec![later.clone()]);
    let by_name = store
        .find_upcoming_by_name("  jane   DOE ", now())
        .await
        .unwrap();
    assert_eq!(by_name, vec![jane.clone(), later]);
    assert!(
        store
            .find_upcoming_by_name("nobody", now())
            .await
            .unwrap()
            .is_empty()
    );

    let counts = store
        .booked_counts("DAL", at(7, 0), at(8, 0))
        .await
        .unwrap();
    assert_eq!(counts.into_iter().collect::<Vec<_>>(), vec![(at(7, 9), 2)]);
    // Full at capacity 2.
    let third = store
        .book(&request("c4", "DAL", at(7, 9), "Cy", "+12145550003"))
        .await;
    assert!(matches!(third, Err(StorageError::Full { .. })), "{third:?}");
    // Other locations are counted separately.
    store
        .book(&request("c5", "ARL", at(7, 9), "Cy", "+12145550003"))
        .await
        .unwrap();

    let unknown = store
        .book(&request("c6", "XYZ", at(7, 9), "Cy", "+12145550003"))
        .await;
    assert!(
        matches!(unknown, Err(StorageError::UnknownLocation(_))),
        "{unknown:?}"
    );

    let customer = store.find_customer("+12145550001").await.unwrap().unwrap();
    assert_eq!(customer.name, "Jane Doe");
    let renamed = store
        .upsert_customer("+12145550001", "Jane Smith")
        .await
        .unwrap();
    assert_eq!(
        (renamed.id, renamed.name.as_str()),
        (customer.id, "Jane Smith")
    );
    assert_eq!(store.find_customer("+19999999999").await.unwrap(), None);

    assert_eq!(store.list_appointments().await.unwrap().len(), 4);
    assert_eq!(store.get_appointment(9999).await.unwrap(), None);
}

async fn booking_is_idempotent_per_call(store: Arc<dyn Storage>, _url: String) {
    let first = store
        .book(&request("dup", "DAL", at(7, 10), "Jane", "+12145550001"))
        .await
        .unwrap();
    let again = store
        .book(&request("dup", "DAL", at(7, 10), "Jane", "+12145550001"))
        .await
        .unwrap();
    assert_eq!(first, again);

    // Concurrent retries of one call, for the same and for different slots, all get the one
    // appointment.
    let mut tasks = Vec::new();
    for i in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .book(&request(
                    "race",
                    "FTW",
                    at(8, 8 + i % 3),
                    "Al",
                    "+12145550009",
                ))
                .await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap().unwrap().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(store.list_appointments().await.unwrap().len(), 2);
    assert_eq!(store.appointments_for_call("race").await.unwrap().len(), 1);
}

/// Opens every pooled connection up front and returns a barrier for `n` racers, so the racing
/// operations really overlap instead of queueing behind connection set-up.
async fn start_line(store: &Arc<dyn Storage>, n: usize) -> Arc<tokio::sync::Barrier> {
    let warm: Vec<_> = (0..n)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.booked_counts("DAL", at(1, 0), at(2, 0)).await })
        })
        .collect();
    for task in warm {
        task.await.unwrap().unwrap();
    }
    Arc::new(tokio::sync::Barrier::new(n))
}

async fn concurrent_booking_respects_capacity(store: Arc<dyn Storage>, _url: String) {
    let barrier = start_line(&store, 10).await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (store, barrier) = (store.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let phone = format!("+1214555{i:04}");
            barrier.wait().await;
            store
                .book(&request(
                    &format!("call-{i}"),
                    "DAL",
                    at(9, 14),
                    "Racer",
                    &phone,
                ))
                .await
        }));
    }
    let (mut won, mut full) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(StorageError::Full { .. }) => full += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((won, full), (2, 8));
    let counts = store
        .booked_counts("DAL", at(9, 0), at(10, 0))
        .await
        .unwrap();
    assert_eq!(counts.get(&at(9, 14)), Some(&2));
}

/// Bookings that arrive at once (on SQLite, written in one group): the ones that can go ahead
/// are booked, a retried one gets its own booking back, and each refused one is told why.
async fn bookings_arriving_together_each_get_their_own_answer(
    store: Arc<dyn Storage>,
    _url: String,
) {
    let already = request("call-early", "DAL", at(10, 9), "Early Bird", "+12145550001");
    store.book(&already).await.unwrap();
    let requests = vec![
        request("call-a", "DAL", at(10, 10), "Ana Ruiz", "+12145550002"),
        request("call-a", "DAL", at(10, 10), "Ana Ruiz", "+12145550002"),
        request("call-b", "DAL", at(10, 10), "Ben Lee", "+12145550003"),
        request("call-c", "DAL", at(10, 10), "Cal Poe", "+12145550004"),
        request("call-d", "NOWHERE", at(10, 11), "Dee Fox", "+12145550005"),
        request("call-e", "DAL", at(10, 9), "Early Bird", "+12145550001"),
        request("call-f", "FTW", at(10, 12), "Fay Ng", "+12145550006"),
    ];
    let barrier = start_line(&store, requests.len()).await;
    let mut tasks = Vec::new();
    for new in requests {
        let (store, barrier) = (store.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            (new.call_id.clone(), store.book(&new).await)
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let booked_id = |call: &str| {
        answers
            .iter()
            .filter(|(c, _)| c == call)
            .map(|(_, answer)| answer.as_ref().map(|a| a.id).ok())
            .collect::<Vec<_>>()
    };
    // The retried call's two requests get the same answer: the same visit, or both full.
    let a = booked_id("call-a");
    assert_eq!(a[0], a[1], "{answers:?}");
    assert!(booked_id("call-f")[0].is_some(), "{answers:?}");
    // Two places at 10:00: two of the three calls have them, the third is told it is full.
    let winners = ["call-a", "call-b", "call-c"]
        .iter()
        .filter(|call| booked_id(call)[0].is_some())
        .count();
    assert_eq!(winners, 2, "{answers:?}");
    for (call, answer) in &answers {
        if ["call-a", "call-b", "call-c"].contains(&call.as_str()) && answer.is_err() {
            assert!(
                matches!(answer, Err(StorageError::Full { .. })),
                "{answer:?}"
            );
        }
    }
    for (call, answer) in &answers {
        match call.as_str() {
            "call-d" => assert!(
                matches!(answer, Err(StorageError::UnknownLocation(code)) if code == "NOWHERE"),
                "{answer:?}"
            ),
            "call-e" => assert!(
                matches!(answer, Err(StorageError::AlreadyBooked(existing)) if existing.name == "Early Bird"),
                "{answer:?}"
            ),
            _ => {}
        }
    }
    let counts = store
        .booked_counts("DAL", at(10, 0), at(11, 0))
        .await
        .unwrap();
    assert_eq!(counts.get(&at(10, 10)), Some(&2));
    assert_eq!(counts.get(&at(10, 9)), Some(&1));
}

async fn visits_of_several_lengths_never_overlap_beyond_capacity(
    store: Arc<dyn Storage>,
    _url: String,
) {
    // Ten bookings race for Wednesday: from 09:00 for three hours, from 10:00 for two, from 11:00
    // for one. Every one of them runs 11:00-12:00, so only two (DAL's capacity) may win.
    let barrier = start_line(&store, 10).await;
    let mut tasks = Vec::new();
    for i in 0..10u32 {
        let (store, barrier) = (store.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let offset = i8::try_from(i % 3).unwrap();
            let new = NewAppointment {
                minutes: Some((3 - i % 3) * 60),
                ..request(
                    &format!("long-{i}"),
                    "DAL",
                    at(9, 9 + offset),
                    "Racer",
                    &format!("+1214557{i:04}"),
                )
            };
            barrier.wait().await;
            store.book(&new).await
        }));
    }
    let (mut won, mut full) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(StorageError::Full { .. }) => full += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((won, full), (2, 8));
    let spans = store
        .booked_spans("DAL", at(9, 0), at(10, 0))
        .await
        .unwrap();
    let visits: Vec<(DateTime, Option<u32>)> = spans
        .iter()
        .flat_map(|(start, minutes, n)| std::iter::repeat_n((*start, *minutes), *n as usize))
        .collect();
    assert_eq!(visits.len(), 2, "{spans:?}");
    // A visit from noon runs after all of them: it fits.
    let after = NewAppointment {
        minutes: Some(60),
        ..request("long-after", "DAL", at(9, 12), "Later", "+12145579999")
    };
    let after = store.book(&after).await.unwrap();
    // One hour from 08:00 ends before any of them begins: it fits too.
    let before = NewAppointment {
        minutes: Some(60),
        ..request("long-before", "DAL", at(9, 8), "Earlier", "+12145579998")
    };
    store.book(&before).await.unwrap();
    // Moving the noon visit to 11:00 would run it beside both winners: refused. One o'clock is
    // free.
    match store
        .move_appointment(after.id, None, at(9, 11), "move-1")
        .await
    {
        Err(StorageError::Full { .. }) => {}
        other => panic!("expected Full, got {other:?}"),
    }
    let moved = store
        .move_appointment(after.id, None, at(9, 13), "move-2")
        .await
        .unwrap();
    assert_eq!(moved.start, at(9, 13));
}

async fn concurrent_reschedule_respects_capacity(store: Arc<dyn Storage>, _url: String) {
    // Ten visits spread over five starts (two each), all trying to move to 16:00.
    let mut ids = Vec::new();
    for i in 0..10 {
        let start = at(10, 8 + (i / 2) as i8);
        let phone = format!("+1214556{i:04}");
        let appt = store
            .book(&request(&format!("b-{i}"), "ARL", start, "Mover", &phone))
            .await
            .unwrap();
        ids.push(appt.id);
    }
    let barrier = start_line(&store, 10).await;
    let mut tasks = Vec::new();
    for (i, id) in ids.iter().copied().enumerate() {
        let (store, barrier) = (store.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.reschedule(id, at(10, 16), &format!("r-{i}")).await
        }));
    }
    let (mut won, mut full) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(a) => {
                assert_eq!(a.start, at(10, 16));
                won += 1;
            }
            Err(StorageError::Full { .. }) => full += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((won, full), (2, 8));
    let counts = store
        .booked_counts("ARL", at(10, 0), at(11, 0))
        .await
        .unwrap();
    assert_eq!(counts.get(&at(10, 16)), Some(&2));
    assert_eq!(counts.values().sum::<u32>(), 10);
}

async fn reschedule_and_cancel(store: Arc<dyn Storage>, _url: String) {
    let appt = store
        .book(&request("c1", "DAL", at(7, 9), "Jane", "+12145550001"))
        .await
        .unwrap();
    let moved = store.reschedule(appt.id, at(7, 11), "c2").await.unwrap();
    assert_eq!(moved.start, at(7, 11));
    assert_eq!(moved.updated_by_call.as_deref(), Some("c2"));
    assert_eq!(moved.created_by_call, "c1");
    assert_eq!(
        store.appointments_for_call("c2").await.unwrap(),
        vec![moved.clone()]
    );
    assert_eq!(
        store.appointments_for_call("c1").await.unwrap(),
        vec![moved.clone()]
    );

    // Moving to its own start is a no-op, even when that start is full.
    store
        .book(&request("c3", "DAL", at(7, 11), "Bob", "+12145550002"))
        .await
        .unwrap();
    let same = store.reschedule(appt.id, at(7, 11), "c4").await.unwrap();
    assert_eq!(same, moved);
    // Into a full slot: refused.
    store
        .book(&request("c5", "DAL", at(7, 12), "Cy", "+12145550003"))
        .await
        .unwrap();
    store
        .book(&request("c6", "DAL", at(7, 12), "Di", "+12145550004"))
        .await
        .unwrap();
    let refused = store.reschedule(appt.id, at(7, 12), "c7").await;
    assert!(
        matches!(refused, Err(StorageError::Full { .. })),
        "{refused:?}"
    );
    let missing = store.reschedule(9999, at(7, 12), "c7").await;
    assert!(
        matches!(missing, Err(StorageError::NotFound(_))),
        "{missing:?}"
    );

    let cancelled = store.cancel(appt.id, "c8").await.unwrap();
    assert_eq!(cancelled.status, AppointmentStatus::Cancelled);
    assert_eq!(cancelled.updated_by_call.as_deref(), Some("c8"));
    // Idempotent: a second cancel returns it unchanged.
    assert_eq!(store.cancel(appt.id, "c9").await.unwrap(), cancelled);
    let again = store.reschedule(appt.id, at(7, 15), "c10").await;
    assert!(
        matches!(again, Err(StorageError::Cancelled(id)) if id == appt.id),
        "{again:?}"
    );
    let missing = store.cancel(9999, "c11").await;
    assert!(
        matches!(missing, Err(StorageError::NotFound(_))),
        "{missing:?}"
    );

    // Cancelling frees the place and hides it from lookups.
    let counts = store
        .booked_counts("DAL", at(7, 11), at(7, 12))
        .await
        .unwrap();
    assert_eq!(counts.get(&at(7, 11)), Some(&1));
    assert!(
        store
            .find_upcoming_by_phone("+12145550001", now())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_same_phone_and_start_is_booked_once(store: Arc<dyn Storage>, _url: String) {
    let first = store
        .book(&request("c1", "DAL", at(8, 10), "Jane", "+12145550001"))
        .await
        .unwrap();
    // Another call, same phone, location and start: the visit they have.
    let again = store
        .book(&request("c2", "DAL", at(8, 10), "Jane", "+12145550001"))
        .await;
    assert!(
        matches!(&again, Err(StorageError::AlreadyBooked(a)) if a.id == first.id),
        "{again:?}"
    );
    // Another location (a second property), another start, or another phone books.
    store
        .book(&request("c3", "FTW", at(8, 10), "Jane", "+12145550001"))
        .await
        .unwrap();
    store
        .book(&request("c4", "DAL", at(8, 11), "Jane", "+12145550001"))
        .await
        .unwrap();
    store
        .book(&request("c5", "DAL", at(8, 10), "Bob", "+12145550002"))
        .await
        .unwrap();
    // A cancelled visit does not count.
    store.cancel(first.id, "c6").await.unwrap();
    store
        .book(&request("c7", "DAL", at(8, 10), "Jane", "+12145550001"))
        .await
        .unwrap();
}

async fn moving_to_another_location_checks_its_capacity(store: Arc<dyn Storage>, _url: String) {
    let appt = store
        .book(&request("c1", "DAL", at(9, 10), "Jane", "+12145550001"))
        .await
        .unwrap();
    let moved = store
        .move_appointment(appt.id, Some("FTW"), at(9, 10), "c2")
        .await
        .unwrap();
    assert_eq!((moved.location.as_str(), moved.start), ("FTW", at(9, 10)));
    assert_eq!(moved.updated_by_call.as_deref(), Some("c2"));
    // Two more at Arlington fill it; moving there is refused.
    for (call, phone) in [("c3", "+12145550003"), ("c4", "+12145550004")] {
        store
            .book(&request(call, "ARL", at(9, 10), "X", phone))
            .await
            .unwrap();
    }
    let refused = store
        .move_appointment(appt.id, Some("ARL"), at(9, 10), "c5")
        .await;
    assert!(
        matches!(refused, Err(StorageError::Full { .. })),
        "{refused:?}"
    );
    let unknown = store
        .move_appointment(appt.id, Some("XYZ"), at(9, 11), "c6")
        .await;
    assert!(
        matches!(unknown, Err(StorageError::UnknownLocation(_))),
        "{unknown:?}"
    );
    // Where it already is: a no-op.
    let same = store
        .move_appointment(appt.id, Some("FTW"), at(9, 10), "c7")
        .await
        .unwrap();
    assert_eq!(same, moved);
}

async fn sync_business_tracks_configuration(store: Arc<dyn Storage>, _url: String) {
    // Syncing again is harmless.
    store.sync_business(&business()).await.unwrap();
    let mut smaller = business();
    smaller.locations.retain(|l| l.code != "ARL");
    smaller.capacity_per_start = 1;
    store.sync_business(&smaller).await.unwrap();
    let gone = store
        .book(&request("c1", "ARL", at(7, 9), "Jane", "+12145550001"))
        .await;
    assert!(
        matches!(gone, Err(StorageError::UnknownLocation(_))),
        "{gone:?}"
    );
    store
        .book(&request("c2", "DAL", at(7, 9), "Jane", "+12145550001"))
        .await
        .unwrap();
    let full = store
        .book(&request("c3", "DAL", at(7, 9), "Bob", "+12145550002"))
        .await;
    assert!(matches!(full, Err(StorageError::Full { .. })), "{full:?}");
    // And back.
    store.sync_business(&business()).await.unwrap();
    store
        .book(&request("c4", "ARL", at(7, 9), "Jane", "+12145550001"))
        .await
        .unwrap();
}

async fn call_records(store: Arc<dyn Storage>, _url: String) {
    let started = at(7, 9);
    store
        .start_call("CA1", "+12145550001", "+12145550100", started)
        .await
        .unwrap();
    // A webhook retry of the start is ignored.
    store
        .start_call("CA1", "+12145550001", "+12145550100", started)
        .await
        .unwrap();
    store
        .add_turn(
            "CA1",
            1,
            Speaker::Agent,
            "Thanks for calling!",
            Some("greet"),
        )
        .await
        .unwrap();
    store
        .add_turn("CA1", 2, Speaker::Caller, "My AC is broken", None)
        .await
        .unwrap();
    // A turn written again (replayed by another replica after a crash) keeps the first.
    store
        .add_turn("CA1", 2, Speaker::Caller, "again", None)
        .await
        .unwrap();
    let orphan = store.add_turn("nope", 1, Speaker::Caller, "hi", None).await;
    assert!(
        matches!(orphan, Err(StorageError::NotFound(_))),
        "{orphan:?}"
    );
    let detail = json!({"tool": "book", "ok": true, "slot": {"location": "DAL", "n": 2}});
    store.add_event("CA1", "booking", &detail).await.unwrap();
    store
        .add_event("CA1", "note", &json!("plain"))
        .await
        .unwrap();
    let orphan = store.add_event("nope", "x", &json!(null)).await;
    assert!(
        matches!(orphan, Err(StorageError::NotFound(_))),
        "{orphan:?}"
    );
    let ended = started
        .checked_add(jiff::SignedDuration::from_secs(95))
        .unwrap();
    store
        .finish_call("CA1", "transferred", Some("+12145550100"), ended)
        .await
        .unwrap();
    let missing = store.finish_call("nope", "x", None, ended).await;
    assert!(
        matches!(missing, Err(StorageError::NotFound(_))),
        "{missing:?}"
    );

    let call = store.get_call("CA1").await.unwrap().unwrap();
    assert_eq!(call.caller, "+12145550001");
    assert_eq!(call.called, "+12145550100");
    assert_eq!(call.started_at, started);
    assert_eq!(call.ended_at, Some(ended));
    assert_eq!(call.outcome.as_deref(), Some("transferred"));
    assert_eq!(call.transfer_to.as_deref(), Some("+12145550100"));
    let turns: Vec<_> = call
        .turns
        .iter()
        .map(|t| (t.seq, t.speaker, t.text.as_str(), t.state.as_deref()))
        .collect();
    assert_eq!(
        turns,
        vec![
            (1, Speaker::Agent, "Thanks for calling!", Some("greet")),
            (2, Speaker::Caller, "My AC is broken", None),
        ]
    );
    let events: Vec<_> = call
        .events
        .iter()
        .map(|e| (e.kind.as_str(), &e.detail))
        .collect();
    assert_eq!(
        events,
        vec![("booking", &detail), ("note", &json!("plain"))]
    );
    assert_eq!(store.get_call("nope").await.unwrap(), None);
}

#[tokio::test]
async fn sqlite_file_is_created_on_first_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/fd.db");
    assert!(!path.exists());
    // A bare path works as well as a sqlite:// URL.
    let store = storage::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    assert!(path.exists());
    store.close().await;
}

#[tokio::test]
async fn open_rejects_unusable_urls() {
    for url in [
        "mysql://x/y",
        "sqlite::memory:",
        "sqlite://",
        "sqlite://a.db?mode=ro",
    ] {
        let got = storage::open(url).await;
        assert!(matches!(got, Err(StorageError::Config(_))), "{url}");
    }
}

#[tokio::test]
async fn postgres_reports_its_backend() {
    crate::support::with_postgres(|store, _| async move {
        assert_eq!(store.backend(), "postgres");
    })
    .await;
    with_sqlite(|store, _| async move {
        assert_eq!(store.backend(), "sqlite");
    })
    .await;
}

async fn call_records_in_batches(store: Arc<dyn Storage>, _url: String) {
    let started = at(7, 9);
    let turn = |seq: u32, speaker: Speaker, text: &str| CallWrite::Turn {
        call_id: "CA7".into(),
        seq,
        speaker,
        text: text.into(),
        state: Some("booking/ask_name".into()),
    };
    let batch = vec![
        CallWrite::StartCall {
            call_id: "CA7".into(),
            caller: "+12145550001".into(),
            called: "+12145550100".into(),
            at: started,
        },
        turn(1, Speaker::Agent, "Thanks for calling!"),
        turn(2, Speaker::Caller, "Book me in"),
        CallWrite::Event {
            call_id: "CA7".into(),
            kind: "tool".into(),
            detail: json!({ "tool": "book_appointment" }),
        },
        CallWrite::FinishCall {
            call_id: "CA7".into(),
            outcome: "booked".into(),
            transfer_to: None,
            at: at(7, 10),
        },
        CallWrite::CarrierStatus {
            call_id: "CA7".into(),
            status: "completed".into(),
            duration_seconds: Some(61),
            at: at(7, 10),
        },
    ];
    store.write_call_records(&batch).await.unwrap();
    let call = store.get_call("CA7").await.unwrap().unwrap();
    assert_eq!(call.turns.len(), 2);
    assert_eq!(call.turns[1].text, "Book me in");
    assert_eq!(call.events[0].detail["tool"], "book_appointment");
    assert_eq!(call.outcome.as_deref(), Some("booked"));
    assert_eq!(call.carrier_status.as_deref(), Some("completed"));
    assert_eq!(call.duration_seconds, Some(61));

    // All or nothing: a turn for a call that was never started fails the whole batch.
    let bad = vec![
        CallWrite::Event {
            call_id: "CA7".into(),
            kind: "note".into(),
            detail: json!({}),
        },
        CallWrite::Turn {
            call_id: "CA-missing".into(),
            seq: 1,
            speaker: Speaker::Caller,
            text: "hello?".into(),
            state: None,
        },
    ];
    assert!(store.write_call_records(&bad).await.is_err());
    let call = store.get_call("CA7").await.unwrap().unwrap();
    assert_eq!(call.events.len(), 1, "the failed batch left nothing behind");
}

async fn calls_are_listed_newest_first_and_filtered(store: Arc<dyn Storage>, _url: String) {
    let calls = [
        ("CA-early", "+12145550123", at(2, 9), Some("booked")),
        ("CA-mid", "+19725550199", at(3, 10), Some("transferred")),
        ("CA-late", "+12145550123", at(4, 11), None),
    ];
    for (id, caller, started, outcome) in calls {
        store
            .start_call(id, caller, "+12145550100", started)
            .await
            .unwrap();
        store
            .add_turn(id, 1, Speaker::Agent, "Thanks for calling!", None)
            .await
            .unwrap();
        if let Some(outcome) = outcome {
            store.finish_call(id, outcome, None, started).await.unwrap();
        }
    }
    store
        .add_turn("CA-late", 2, Speaker::Caller, "hello?", None)
        .await
        .unwrap();
    let all = CallFilter::latest(50);
    let ids = |calls: Vec<storage::CallSummary>| -> Vec<String> {
        calls.into_iter().map(|c| c.call_id).collect()
    };
    let listed = store.list_calls(&all).await.unwrap();
    assert_eq!(listed[0].turns, 2);
    assert_eq!(listed[0].outcome, None);
    assert_eq!(listed[2].outcome.as_deref(), Some("booked"));
    assert_eq!(ids(listed), ["CA-late", "CA-mid", "CA-early"]);
    let since = CallFilter {
        since: Some(at(3, 0)),
        ..all.clone()
    };
    assert_eq!(
        ids(store.list_calls(&since).await.unwrap()),
        ["CA-late", "CA-mid"]
    );
    let transferred = CallFilter {
        outcome: Some("transferred".into()),
        ..all.clone()
    };
    assert_eq!(
        ids(store.list_calls(&transferred).await.unwrap()),
        ["CA-mid"]
    );
    let by_caller = CallFilter {
        caller_digits: Some("0123".into()),
        ..all.clone()
    };
    assert_eq!(
        ids(store.list_calls(&by_caller).await.unwrap()),
        ["CA-late", "CA-early"]
    );
    let one = CallFilter { limit: 1, ..all };
    assert_eq!(ids(store.list_calls(&one).await.unwrap()), ["CA-late"]);
}

async fn calls_are_searched_by_flow_text_and_day(store: Arc<dyn Storage>, _url: String) {
    let lines = [
        (
            "CA-book",
            at(2, 9),
            "my AC is Blowing warm air",
            "booking/ask_name",
        ),
        ("CA-gas", at(2, 15), "I smell gas", "emergency/instructions"),
        ("CA-next", at(3, 9), "book me in please", "booking/ask_when"),
    ];
    for (id, started, said, state) in lines {
        store
            .start_call(id, "+12145550123", "+12145550100", started)
            .await
            .unwrap();
        store
            .add_turn(id, 1, Speaker::Caller, said, Some(state))
            .await
            .unwrap();
    }
    let ids = |calls: Vec<storage::CallSummary>| -> Vec<String> {
        calls.into_iter().map(|c| c.call_id).collect()
    };
    let booking = CallFilter {
        flow: Some("booking".into()),
        ..CallFilter::latest(50)
    };
    assert_eq!(
        ids(store.list_calls(&booking).await.unwrap()),
        ["CA-next", "CA-book"]
    );
    let said = CallFilter {
        text: Some("blowing WARM".into()),
        ..CallFilter::latest(50)
    };
    assert_eq!(ids(store.list_calls(&said).await.unwrap()), ["CA-book"]);
    let one_day = CallFilter {
        since: Some(at(2, 0)),
        until: Some(at(3, 0)),
        ..CallFilter::latest(50)
    };
    assert_eq!(
        ids(store.list_calls(&one_day).await.unwrap()),
        ["CA-gas", "CA-book"]
    );
    // A wildcard typed by the owner is not a wildcard.
    let percent = CallFilter {
        text: Some("%".into()),
        ..CallFilter::latest(50)
    };
    assert_eq!(store.list_calls(&percent).await.unwrap().len(), 3);
}

async fn owner_reports_read_calls_customers_and_visits(store: Arc<dyn Storage>, _url: String) {
    for (id, started) in [("CA-a", at(2, 9)), ("CA-b", at(2, 10)), ("CA-c", at(3, 9))] {
        store
            .start_call(id, "+12145550123", "+12145550100", started)
            .await
            .unwrap();
        store
            .add_turn(id, 1, Speaker::Agent, "Thanks for calling", None)
            .await
            .unwrap();
        store
            .add_turn(id, 2, Speaker::Caller, id, Some("booking/ask_name"))
            .await
            .unwrap();
        store
            .add_event(id, "flow_started", &json!({ "flow": "booking" }))
            .await
            .unwrap();
    }
    let records = store
        .call_records_between(at(2, 0), at(3, 0))
        .await
        .unwrap();
    let ids: Vec<&str> = records.iter().map(|r| r.call_id.as_str()).collect();
    assert_eq!(ids, ["CA-a", "CA-b"]);
    assert_eq!(records[1].turns.len(), 2);
    assert_eq!(records[1].turns[1].text, "CA-b");
    assert_eq!(records[1].events.len(), 1);
    assert_eq!(records[1].events[0].detail, json!({ "flow": "booking" }));

    let jane = store
        .book(&request("c1", "DAL", at(7, 9), "Jane Doe", "+12145550001"))
        .await
        .unwrap();
    store
        .book(&request("c2", "FTW", at(8, 9), "John Roe", "+19725550002"))
        .await
        .unwrap();
    let cancelled = store
        .book(&request("c3", "DAL", at(9, 9), "Jim Doe", "+12145550003"))
        .await
        .unwrap();
    store.cancel(cancelled.id, "c4").await.unwrap();

    let doe = store.search_customers(Some("DOE"), 10).await.unwrap();
    let names: Vec<&str> = doe.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Jane Doe", "Jim Doe"]);
    let by_phone = store.search_customers(Some("5550002"), 10).await.unwrap();
    assert_eq!(by_phone.len(), 1);
    assert_eq!(
        store.get_customer(by_phone[0].id).await.unwrap(),
        Some(by_phone[0].clone())
    );
    assert_eq!(store.search_customers(None, 2).await.unwrap().len(), 2);
    assert_eq!(store.get_customer(99_999).await.unwrap(), None);

    let any = AppointmentFilter {
        from: None,
        to: None,
        location: None,
        text: None,
        status: None,
        limit: 50,
    };
    assert_eq!(store.search_appointments(&any).await.unwrap().len(), 3);
    let dallas_booked = AppointmentFilter {
        location: Some("DAL".into()),
        status: Some(AppointmentStatus::Booked),
        ..any.clone()
    };
    assert_eq!(
        store.search_appointments(&dallas_booked).await.unwrap(),
        [jane]
    );
    let week = AppointmentFilter {
        from: Some(at(8, 0)),
        to: Some(at(10, 0)),
        text: Some("warm air".into()),
        ..any
    };
    let found = store.search_appointments(&week).await.unwrap();
    let names: Vec<&str> = found.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["John Roe", "Jim Doe"]);
}
