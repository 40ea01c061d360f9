//! Two `frontdesk serve` replicas behind a round-robin load balancer, sharing PostgreSQL (data)
//! and Redis (live calls), as production runs them: each webhook of a call may land on either
//! replica; one replica killed outright (SIGKILL) in the middle of calls loses nothing; and calls
//! racing for one start across both replicas never overbook it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use frontdesk::storage::{AppointmentStatus, Speaker as RecordSpeaker, Storage};
use frontdesk_engine::script::{Script, ScriptCursor};
use frontdesk_testkit::phone::{
    PhoneEnding, PhoneLine, PhoneReport, Speaker, gather_call, http_client, new_call_sid,
};

use crate::support::balancer::Balancer;
use crate::support::replay::{ACCOUNT_SID, AUTH_TOKEN};
use crate::support::served::Served;
use crate::support::with_postgres;
use crate::twilio_gather::script;

const REDIS: &str = "redis://127.0.0.1:6379";
/// The scripts' clock; every replica pretends it is this time.
const NOW: &str = "2026-06-01T09:12";
/// Scripts with no visits given beforehand, whose bookings do not compete for one start.
const MIX: &[&str] = &[
    "booking_all_in_one",
    "emergency_gas",
    "faq_fee",
    "faq_hours_saturday",
    "emergency_smoke",
    "global_never_mind",
    "booking_date_only",
    "faq_then_book",
];

/// Replicas on one database and one Redis, behind a balancer.
struct Cluster {
    balancer: Balancer,
    /// In a mutex only so the cluster can be shared by the calls' tasks.
    replicas: std::sync::Mutex<Vec<Served>>,
}

async fn cluster(database: &str, replicas: usize) -> Cluster {
    let (balancer, listener) = Balancer::bind().await;
    let args = [
        "--public-url",
        &balancer.url,
        "--sessions",
        REDIS,
        "--now",
        NOW,
        "--no-texts",
    ];
    let env = [("TWILIO_AUTH_TOKEN", AUTH_TOKEN)];
    let mut served: Vec<Served> = (0..replicas)
        .map(|_| {
            // Each server its own spill directory, as in production.
            let dir = tempfile::tempdir().unwrap();
            let spill = dir.path().display().to_string();
            let mut replica = Served::spawn(
                database,
                &[&args[..], &["--spill-dir", &spill]].concat(),
                &env,
            );
            replica.keep(dir);
            replica
        })
        .collect();
    let urls = tokio::task::block_in_place(|| {
        served
            .iter_mut()
            .map(|replica| format!("http://{}", replica.address()))
            .collect()
    });
    balancer.start(listener, urls);
    Cluster {
        balancer,
        replicas: std::sync::Mutex::new(served),
    }
}

impl Cluster {
    fn line(&self, from: &str) -> PhoneLine {
        PhoneLine {
            server: self.balancer.url.clone(),
            auth_token: AUTH_TOKEN.into(),
            account_sid: ACCOUNT_SID.into(),
            from: from.into(),
            to: "+12145550100".into(),
        }
    }

    /// Places one call playing `script` from `from` (the script's caller ID by default).
    async fn call(&self, script: &Script, from: Option<&str>) -> PhoneReport {
        let from = from
            .map(str::to_string)
            .or_else(|| script.caller_id.clone())
            .unwrap_or_default();
        let mut cursor = ScriptCursor::new(script);
        gather_call(
            &http_client(),
            &self.line(&from),
            &mut cursor,
            &new_call_sid(),
        )
        .await
    }
}

/// What the database holds about one call, once the replicas have written it.
async fn settled(store: &dyn Storage, call_sid: &str) -> (String, usize) {
    for _ in 0..100 {
        if let Some(record) = store.get_call(call_sid).await.unwrap()
            && let Some(outcome) = record.outcome.clone()
        {
            let said = record
                .turns
                .iter()
                .filter(|t| t.speaker == RecordSpeaker::Caller)
                .count();
            return (outcome, said);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("call {call_sid} was never closed in the database");
}

/// The caller's lines the phone spoke in a call.
fn spoken(report: &PhoneReport) -> usize {
    report
        .transcript
        .iter()
        .filter(|(speaker, text)| *speaker == Speaker::Caller && !text.starts_with('('))
        .count()
}

/// Checks each call ended as its script expects, with every caller line in its record, and
/// the bookings in the database are exactly the booked calls'.
async fn check_calls(store: &dyn Storage, runs: &[(PhoneReport, Script)]) {
    let mut booked = 0;
    for (report, script) in runs {
        assert!(
            !matches!(report.ending, PhoneEnding::Failed(_)),
            "{}: {}",
            script.name,
            report.ending
        );
        let (outcome, said) = settled(store, &report.call_sid).await;
        assert_eq!(
            Some(&outcome),
            script.expect.outcome.as_ref(),
            "{}",
            script.name
        );
        assert_eq!(
            said,
            spoken(report),
            "{}: caller turns recorded",
            script.name
        );
        if outcome == "booked" {
            let made = store.appointments_for_call(&report.call_sid).await.unwrap();
            assert_eq!(made.len(), 1, "{}: {made:?}", script.name);
            booked += 1;
        }
    }
    let all = store.list_appointments().await.unwrap();
    assert_eq!(all.len(), booked, "{all:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn calls_alternate_between_two_replicas_and_end_as_on_one() {
    with_postgres(|store, url| async move {
        let cluster = cluster(&url, 2).await;
        let mut runs = Vec::new();
        for stem in MIX {
            let script = script(stem);
            runs.push((cluster.call(&script, None).await, script));
        }
        check_calls(store.as_ref(), &runs).await;
        let served = cluster.balancer.served();
        assert!(
            served.iter().all(|&n| n > 10),
            "both replicas answered webhooks: {served:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_killed_mid_call_loses_nothing() {
    with_postgres(|store, url| async move {
        let cluster = cluster(&url, 2).await;
        // Slow enough that the calls are all under way when the replica dies.
        cluster.balancer.set_delay(Duration::from_millis(40));
        let cluster = Arc::new(cluster);
        let mut calls = Vec::new();
        for stem in MIX {
            let (cluster, script) = (cluster.clone(), script(stem));
            calls.push(tokio::spawn(async move {
                (cluster.call(&script, None).await, script)
            }));
        }
        while cluster.balancer.served().iter().sum::<usize>() < MIX.len() * 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // SIGKILL: no shutdown, no flush, whatever the replica held in memory is gone.
        cluster.replicas.lock().unwrap()[0].kill();
        let before = cluster.balancer.served();
        let mut runs = Vec::new();
        for call in calls {
            runs.push(call.await.unwrap());
        }
        check_calls(store.as_ref(), &runs).await;
        let after = cluster.balancer.served();
        assert_eq!(after[0], before[0], "the dead replica answered: {after:?}");
        assert!(after[1] > before[1], "the live one took over: {after:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_calls_racing_for_one_start_never_overbook_it() {
    with_postgres(|store, url| async move {
        let cluster = Arc::new(cluster(&url, 2).await);
        let script = Arc::new(script("booking_all_in_one"));
        let mut calls = Vec::new();
        for i in 0..50 {
            let (cluster, script) = (cluster.clone(), script.clone());
            calls.push(tokio::spawn(async move {
                let from = format!("+1214555{:04}", 2000 + i);
                cluster.call(&script, Some(&from)).await
            }));
        }
        let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
        let mut booked_calls = 0;
        for call in calls {
            let report = call.await.unwrap();
            assert!(
                !matches!(report.ending, PhoneEnding::Failed(_)),
                "{}",
                report.ending
            );
            let (outcome, _) = settled(store.as_ref(), &report.call_sid).await;
            let made = store.appointments_for_call(&report.call_sid).await.unwrap();
            assert!(made.len() <= 1, "a call booked twice: {made:?}");
            if outcome == "booked" {
                assert_eq!(made.len(), 1, "a booked call's visit is missing");
                booked_calls += 1;
            }
            *outcomes.entry(outcome).or_default() += 1;
        }
        let all = store.list_appointments().await.unwrap();
        assert_eq!(all.len(), booked_calls, "{outcomes:?}");
        let capacity = crate::support::business().capacity_per_start as usize;
        let mut per_start: BTreeMap<(String, String), usize> = BTreeMap::new();
        for visit in all.iter().filter(|a| a.status == AppointmentStatus::Booked) {
            *per_start
                .entry((visit.location.clone(), visit.start.to_string()))
                .or_default() += 1;
        }
        assert!(
            per_start.values().all(|&n| n <= capacity),
            "over capacity {capacity}: {per_start:?}"
        );
        assert!(booked_calls >= capacity, "{outcomes:?}");
        let served = cluster.balancer.served();
        assert!(served.iter().all(|&n| n > 50), "{served:?}");
    })
    .await;
}
