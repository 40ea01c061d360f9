//! Gather mode end to end: a real server on loopback, the fake Twilio phone posting signed
//! webhooks, a real SQLite file behind it.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::support::replay::{AUTH_TOKEN, ReplayPace, TestServer};
use frontdesk::project::{ProjectPaths, load_engine};
use frontdesk::server::Mode;
use frontdesk::simulate::{read_script, run_script};
use frontdesk::tools;
use frontdesk_engine::Engine;
use frontdesk_engine::script::{CallerAction, Script};
use frontdesk_telephony::signature;
use frontdesk_testkit::phone::{
    Caller, PhoneEnding, Speaker, gather_call, http_client, new_call_sid,
};

/// A business folder and where its caller scripts live: the default business (the repository
/// itself) or one under `examples/`.
#[derive(Debug, Clone)]
pub enum Project {
    Default,
    /// A folder under `examples/`, by name.
    Example(String),
}

impl Project {
    /// Every business folder under `examples/`: each one is tested as it is added, and no
    /// business is named in Rust.
    pub fn examples() -> Vec<Project> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("config/business.yaml").is_file())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        assert!(
            names.len() >= 2,
            "expected the example businesses in {}",
            dir.display()
        );
        names.into_iter().map(Project::Example).collect()
    }

    pub fn root(&self) -> PathBuf {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        match self {
            Project::Default => repo.to_path_buf(),
            Project::Example(name) => repo.join("examples").join(name),
        }
    }

    /// The caller scripts' folder (snapshots in its `snapshots/`).
    pub fn scripts_dir(&self) -> PathBuf {
        match self {
            Project::Default => self.root().join("tests/transcripts"),
            Project::Example(_) => self.root().join("transcripts"),
        }
    }

    /// How many scripts the project must at least have (none silently lost).
    pub fn min_scripts(&self) -> usize {
        match self {
            Project::Default => 40,
            Project::Example(_) => 25,
        }
    }

    pub fn engine(&self) -> Arc<Engine> {
        Arc::new(load_engine(&ProjectPaths::at_root(&self.root()), tools::catalog()).unwrap())
    }

    /// The project's script files, sorted.
    pub fn script_files(&self) -> Vec<PathBuf> {
        let dir = self.scripts_dir();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        files
    }
}

pub fn engine() -> Arc<Engine> {
    Project::Default.engine()
}

pub fn project_scripts(project: &Project) -> Vec<(String, Script)> {
    let files = project.script_files();
    files
        .iter()
        .map(|f| {
            let stem = f.file_stem().unwrap().to_string_lossy().to_string();
            (stem, read_script(f).unwrap())
        })
        .collect()
}

pub fn script(stem: &str) -> Script {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/transcripts")
        .join(format!("{stem}.yaml"));
    read_script(&path).unwrap()
}

/// A caller that does exactly these things, then hangs up.
pub struct Steps(pub VecDeque<CallerAction>);

impl Caller for Steps {
    fn next(&mut self, _asked_slot: Option<&str>) -> CallerAction {
        self.0.pop_front().unwrap_or(CallerAction::Hangup)
    }
}

pub fn steps(actions: &[CallerAction]) -> Steps {
    Steps(actions.iter().cloned().collect())
}

/// POSTs a webhook to `url`, signed as Twilio signs it.
pub async fn post_signed(url: &str, params: &[(String, String)]) -> reqwest::Response {
    http_client()
        .post(url)
        .header(
            "X-Twilio-Signature",
            signature::compute(AUTH_TOKEN, url, params),
        )
        .form(params)
        .send()
        .await
        .unwrap()
}

/// A webhook's fields: the call, a caller, and `extra`.
pub fn webhook_fields(sid: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields = vec![
        ("CallSid".to_string(), sid.to_string()),
        ("From".to_string(), "+12145550123".to_string()),
    ];
    fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    fields
}

/// Replays every script through a server in `mode` and compares what the server stored with
/// what `simulate` decides for the same script.
pub async fn replay_all(mode: Mode, parallel: usize, model: Option<Arc<frontdesk::llm::Model>>) {
    replay_project(&Project::Default, mode, parallel, model).await;
}

/// [`replay_all`] for one project's scripts.
pub async fn replay_project(
    project: &Project,
    mode: Mode,
    parallel: usize,
    model: Option<Arc<frontdesk::llm::Model>>,
) {
    let engine = project.engine();
    let all = project_scripts(project);
    assert!(
        all.len() >= project.min_scripts(),
        "expected the caller scripts of {}, found {}",
        project.root().display(),
        all.len()
    );
    let pace = ReplayPace::default();
    let mut mismatches = Vec::new();
    for chunk in all.chunks(parallel) {
        let mut tasks = Vec::new();
        for (stem, script) in chunk.iter().cloned() {
            let (engine, pace, model) = (engine.clone(), pace.clone(), model.clone());
            tasks.push(tokio::spawn(async move {
                let expected = run_script(engine.clone(), &script, &stem).await.unwrap();
                let sessions = Arc::new(frontdesk::server::sessions::MemorySessions::new());
                let server = TestServer::start_with(engine, &script, mode, &pace, sessions, model)
                    .await
                    .unwrap();
                let report = server.call(&script, None).await;
                let stored = server.stored(&report.call_sid).await;
                // The urgency the call record keeps, as `frontdesk calls list` shows it.
                let filter = frontdesk::storage::CallFilter::latest(10);
                let listed_urgency = server
                    .storage
                    .list_calls(&filter)
                    .await
                    .ok()
                    .and_then(|calls| calls.into_iter().find(|c| c.call_id == report.call_sid))
                    .and_then(|call| call.urgency);
                server.shutdown().await;
                let mut problems = Vec::new();
                if listed_urgency != expected.urgency {
                    problems.push(format!(
                        "urgency {listed_urgency:?} in the call list (simulate: {:?})",
                        expected.urgency
                    ));
                }
                if let PhoneEnding::Failed(why) = &report.ending {
                    problems.push(format!("the phone failed: {why}"));
                }
                match stored {
                    Err(e) => problems.push(format!("nothing stored: {e:#}")),
                    Ok(stored) => {
                        if stored.outcome != expected.outcome {
                            problems.push(format!(
                                "outcome {} (simulate: {})",
                                stored.outcome, expected.outcome
                            ));
                        }
                        if stored.transfer_to != expected.transfer_to {
                            problems.push(format!(
                                "transfer {:?} (simulate: {:?})",
                                stored.transfer_to, expected.transfer_to
                            ));
                        }
                        if stored.appointments != expected.appointments {
                            problems.push(format!(
                                "appointments {:?} (simulate: {:?})",
                                stored.appointments, expected.appointments
                            ));
                        }
                        if stored.carrier_status.as_deref() != Some("completed") {
                            problems.push(format!(
                                "status callback not recorded: {:?}",
                                stored.carrier_status
                            ));
                        }
                    }
                }
                (stem, problems)
            }));
        }
        for task in tasks {
            let (stem, problems) = task.await.unwrap();
            if !problems.is_empty() {
                mismatches.push(format!("{stem}: {}", problems.join("; ")));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} scripts of {} differ from simulate in {} mode:\n{}",
        mismatches.len(),
        all.len(),
        project.root().display(),
        mode.as_str(),
        mismatches.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_caller_script_ends_the_same_through_gather_webhooks() {
    replay_all(Mode::Gather, 8, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_businesss_scripts_end_the_same_through_gather_webhooks() {
    for example in Project::examples() {
        replay_project(&example, Mode::Gather, 8, None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_missing_signature_gets_403_and_no_call() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    let http = http_client();
    let url = format!("{}/twilio/voice", server.line.server);
    let params: Vec<(String, String)> = [
        ("CallSid", "CA00000000000000000000000000000001"),
        ("From", "+12145550123"),
        ("To", "+12145550100"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let good = signature::compute(AUTH_TOKEN, &url, &params);
    let wrong_token = signature::compute("not-the-token", &url, &params);
    let mut tampered = params.clone();
    tampered[1].1 = "+19995550000".into();

    for (name, signature, body) in [
        ("no signature", None, &params),
        ("signed with another token", Some(wrong_token), &params),
        (
            "signed, then a field changed",
            Some(good.clone()),
            &tampered,
        ),
    ] {
        let mut request = http.post(&url).form(body);
        if let Some(signature) = signature {
            request = request.header("X-Twilio-Signature", signature);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{name}");
    }
    assert!(
        server
            .storage
            .get_call("CA00000000000000000000000000000001")
            .await
            .unwrap()
            .is_none(),
        "a rejected webhook must not start a call"
    );
    let response = http
        .post(&url)
        .header("X-Twilio-Signature", good)
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains("<Gather"), "{body}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keypad_0_dials_a_person_and_a_failed_dial_apologizes() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    let http = http_client();
    let sid = new_call_sid();
    let mut caller = steps(&[CallerAction::Dtmf("0".into())]);
    let report = gather_call(&http, &server.line, &mut caller, &sid).await;
    let human = server.engine.business().phones.human.clone();
    assert_eq!(report.ending, PhoneEnding::Transferred(human.clone()));
    let stored = server.stored(&sid).await.unwrap();
    assert_eq!(stored.outcome, "transferred");
    assert_eq!(stored.transfer_to.as_deref(), Some(human.as_str()));

    // Nobody picks up: Twilio posts the Dial's action with a failed status.
    let url = format!("{}/twilio/dial-done", server.line.server);
    let params = webhook_fields(&sid, &[("DialCallStatus", "no-answer")]);
    let body = post_signed(&url, &params).await.text().await.unwrap();
    assert!(
        body.contains("call you back") && body.contains("<Hangup"),
        "{body}"
    );
    server.settle().await;
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    assert!(record.events.iter().any(|e| e.kind == "transfer_failed"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_without_a_call_sid_gets_400_and_records_nothing() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    let fields: Vec<(String, String)> = [
        ("From", "+12145550123"),
        ("DialCallStatus", "no-answer"),
        ("CallStatus", "completed"),
        ("SpeechResult", "hello"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for path in [
        "/twilio/voice",
        "/twilio/gather",
        "/twilio/dial-done",
        "/twilio/status",
    ] {
        let url = format!("{}{path}", server.line.server);
        let response = post_signed(&url, &fields).await;
        assert_eq!(response.status(), 400, "{path}");
    }
    server.settle().await;
    assert!(server.storage.get_call("").await.unwrap().is_none());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_with_the_wrong_number_hears_nothing_of_the_visit_and_changes_nothing() {
    // The same caller script `simulate` plays, through signed webhooks.
    let script = script("cancel_other_phone_wrong_number");
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    let before = server.storage.list_appointments().await.unwrap();
    let report = server.call(&script, None).await;
    let agent: Vec<String> = report
        .transcript
        .iter()
        .filter(|(who, _)| *who == Speaker::Agent)
        .map(|(_, text)| text.to_lowercase())
        .collect();
    assert!(
        agent.iter().any(|t| t.contains("last four digits")),
        "{agent:?}"
    );
    let visit = before.first().expect("the script gives the visit");
    let details = [
        "june 2nd".to_string(),
        "tuesday".to_string(),
        "8 am".to_string(),
        visit.issue.to_lowercase(),
        "dallas location".to_string(),
        "dallas team".to_string(),
    ];
    for line in &agent {
        for detail in &details {
            assert!(
                !line.contains(detail.as_str()),
                "{detail:?} spoken in {line:?}"
            );
        }
    }
    let stored = server.stored(&report.call_sid).await.unwrap();
    assert!(stored.appointments.is_empty(), "{:?}", stored.appointments);
    assert_ne!(stored.outcome, "cancelled");
    assert_eq!(server.storage.list_appointments().await.unwrap(), before);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_characters_from_callers_cannot_break_the_twiml() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    let http = http_client();
    let sid = new_call_sid();
    let mut caller = steps(&[
        CallerAction::Say("i need my ac fixed in dallas tomorrow at 10".into()),
        CallerAction::Say("my name is tom <b>o'neil</b> & \"sons\"".into()),
    ]);
    let report = gather_call(&http, &server.line, &mut caller, &sid).await;
    assert!(
        !matches!(report.ending, PhoneEnding::Failed(_)),
        "{:?}",
        report.ending
    );
    let agent: Vec<&str> = report
        .transcript
        .iter()
        .filter(|(s, _)| *s == Speaker::Agent)
        .map(|(_, t)| t.as_str())
        .collect();
    assert!(agent.len() >= 3, "{agent:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_up_mid_call_closes_the_record_with_twilio_status() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    let http = http_client();
    let sid = new_call_sid();
    let mut caller = steps(&[
        CallerAction::Say("i want to book a repair".into()),
        CallerAction::Hangup,
    ]);
    let report = gather_call(&http, &server.line, &mut caller, &sid).await;
    assert_eq!(report.ending, PhoneEnding::CallerHungUp);
    server.settle().await;
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    assert_eq!(record.carrier_status.as_deref(), Some("completed"));
    assert!(record.duration_seconds.is_some_and(|d| d >= 1));
    assert!(record.ended_at.is_some());
    assert_eq!(record.outcome.as_deref(), Some("abandoned"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_database_and_session_store() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    let http = http_client();
    let base = &server.line.server;
    let health = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let detailed: serde_json::Value = http
        .get(format!("{base}/health/detailed"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detailed["status"], "ok", "{detailed}");
    assert_eq!(detailed["database"]["backend"], "sqlite");
    assert_eq!(detailed["sessions"]["backend"], "memory");
    assert_eq!(detailed["mode"], "gather");
    assert_eq!(detailed["signatures"], true);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_keep_their_state_in_redis_between_webhooks() {
    use frontdesk::server::sessions::{RedisSessions, SessionStore};
    let prefix = format!("frontdesk-test:{}:", new_call_sid());
    let redis = RedisSessions::connect("redis://127.0.0.1:6379")
        .await
        .expect("Redis is required at 127.0.0.1:6379 (scripts/services.sh starts it)")
        .with_prefix(&prefix);
    let redis: Arc<dyn SessionStore> = Arc::new(redis);
    let script = script("booking_all_in_one");
    let server = TestServer::start_with(
        engine(),
        &script,
        Mode::Gather,
        &ReplayPace::default(),
        redis.clone(),
        None,
    )
    .await
    .unwrap();

    // Mid-call the conversation lives in Redis...
    let http = http_client();
    let sid = new_call_sid();
    let mut caller = steps(&[
        CallerAction::Say("can someone fix my ac in fort worth tomorrow at 2".into()),
        CallerAction::Say("this is linda park".into()),
        CallerAction::Say("yes please".into()),
    ]);
    let mut probe = ProbeRedis {
        inner: &mut caller,
        redis: redis.clone(),
        sid: sid.clone(),
        seen: Vec::new(),
    };
    let report = gather_call(&http, &server.line, &mut probe, &sid).await;
    let seen = probe.seen.clone();
    assert!(seen.iter().skip(1).all(|&found| found), "{seen:?}");
    assert_eq!(report.ending, PhoneEnding::AgentHungUp, "{report:?}");
    // ...and is gone once the call ends.
    assert!(redis.load(&sid).await.unwrap().is_none());
    let stored = server.stored(&sid).await.unwrap();
    assert_eq!(stored.outcome, "booked");
    server.shutdown().await;
}

/// Wraps a caller and checks, at every turn, whether the call's session is in Redis.
struct ProbeRedis<'a> {
    inner: &'a mut Steps,
    redis: Arc<dyn frontdesk::server::sessions::SessionStore>,
    sid: String,
    seen: Vec<bool>,
}

impl Caller for ProbeRedis<'_> {
    fn next(&mut self, asked_slot: Option<&str>) -> CallerAction {
        let (redis, sid) = (self.redis.clone(), self.sid.clone());
        let found = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current()
                .block_on(async move { redis.load(&sid).await.unwrap().is_some() })
        });
        self.seen.push(found);
        self.inner.next(asked_slot)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_refuses_new_calls_and_lets_live_ones_finish() {
    let script = script("booking_all_in_one");
    // A drain limit far beyond the test's patience: only the live call ending can stop it.
    let pace = ReplayPace {
        drain_limit: std::time::Duration::from_secs(120),
        ..ReplayPace::default()
    };
    let mut server = TestServer::start(engine(), &script, Mode::Gather, &pace)
        .await
        .unwrap();
    let line = server.line.clone();
    let live = new_call_sid();
    let voice = format!("{}/twilio/voice", line.server);
    assert_eq!(
        post_signed(&voice, &webhook_fields(&live, &[]))
            .await
            .status(),
        200
    );

    let mut drain = server.begin_shutdown();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), &mut drain)
            .await
            .is_err(),
        "the server must wait for the live call"
    );
    let refused = post_signed(&voice, &webhook_fields(&new_call_sid(), &[])).await;
    assert_eq!(
        refused.status(),
        503,
        "new calls go to Twilio's fallback URL"
    );
    // A load balancer sees the server draining.
    let health = reqwest::get(format!("{}/health", line.server))
        .await
        .unwrap();
    assert_eq!(health.status(), 503);
    let health: serde_json::Value = health.json().await.unwrap();
    assert_eq!(health["status"], "draining", "{health}");
    assert_eq!(health["live_calls"], 1, "{health}");
    // The live call carries on and ends normally.
    let gather = format!("{}/twilio/gather", line.server);
    let answer = post_signed(&gather, &webhook_fields(&live, &[("Digits", "0")])).await;
    assert_eq!(answer.status(), 200);
    assert!(answer.text().await.unwrap().contains("<Dial"));
    // Its status callback, a moment later, still reaches the record.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let status = format!("{}/twilio/status", line.server);
    let closed = post_signed(
        &status,
        &webhook_fields(
            &live,
            &[("CallStatus", "completed"), ("CallDuration", "42")],
        ),
    )
    .await;
    assert_eq!(closed.status(), 204);
    tokio::time::timeout(std::time::Duration::from_secs(5), drain)
        .await
        .expect("the server stops once its last call has ended")
        .unwrap();
    let record = server.storage.get_call(&live).await.unwrap().unwrap();
    assert_eq!(record.carrier_status.as_deref(), Some("completed"));
    assert_eq!(record.duration_seconds, Some(42));
    server.storage.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_status_callback_never_comes_does_not_hold_a_shutdown() {
    let script = script("booking_all_in_one");
    // The drain limit is far beyond the test's patience; the idle limit is short, as if
    // minutes had passed since the call's last webhook.
    let pace = ReplayPace {
        drain_limit: std::time::Duration::from_secs(600),
        call_idle_limit: std::time::Duration::from_secs(1),
        ..ReplayPace::default()
    };
    let mut server = TestServer::start(engine(), &script, Mode::Gather, &pace)
        .await
        .unwrap();
    let voice = format!("{}/twilio/voice", server.line.server);
    // Answered, then nothing: no gather, no status callback.
    let lost = new_call_sid();
    assert_eq!(
        post_signed(&voice, &webhook_fields(&lost, &[]))
            .await
            .status(),
        200
    );
    let drain = server.begin_shutdown();
    tokio::time::timeout(std::time::Duration::from_secs(60), drain)
        .await
        .expect("a call silent past the idle limit must not hold the shutdown")
        .unwrap();
    assert_eq!(server.server.state.live_calls(), 0);
    server.storage.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsure_recognition_is_asked_again_but_an_emergency_never_waits() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    let post = |path: &str, params: Vec<(String, String)>| {
        let url = format!("{}{path}", server.line.server);
        async move { post_signed(&url, &params).await.text().await.unwrap() }
    };
    let sid = new_call_sid();
    post("/twilio/voice", webhook_fields(&sid, &[])).await;
    let unsure = post(
        "/twilio/gather",
        webhook_fields(
            &sid,
            &[
                ("SpeechResult", "book a repair in dallas"),
                ("Confidence", "0.12"),
            ],
        ),
    )
    .await;
    assert!(unsure.contains("<Gather"), "{unsure}");
    server.settle().await;
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    assert!(record.events.iter().any(|e| e.kind == "low_confidence"));
    assert!(
        record.outcome.is_none(),
        "nothing was booked or ended on a guess"
    );

    let emergency = post(
        "/twilio/gather",
        webhook_fields(
            &sid,
            &[
                ("SpeechResult", "i smell gas in the kitchen"),
                ("Confidence", "0.12"),
            ],
        ),
    )
    .await;
    let emergency_line = server.engine.business().phones.emergency.clone();
    assert!(emergency.contains(&emergency_line), "{emergency}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_person_taking_an_emergency_hears_what_it_is_first() {
    let script = script("emergency_gas");
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    let report = server.call(&script, None).await;
    let whisper = report.whisper.clone().unwrap_or_default();
    assert!(
        whisper.starts_with("Emergency (gas) from a caller at"),
        "{report:?}"
    );
    // Only a signed request is answered.
    let unsigned = http_client()
        .post(format!("{}/twilio/whisper?text=hello", server.line.server))
        .form(&[("CallSid", "CA1")])
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    server.shutdown().await;
}
