//! A SQLite file that can no longer be written (made immutable with `chattr +i`, as a disk
//! remounted read-only refuses writes): the server keeps running, a live call's booking ends
//! with an apology and a person, `/health/detailed` says storage is failing, and the call record
//! is written once the file can be written again. With a WAL journal the same fault was a
//! SIGBUS that killed the server with every live call.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::replay::{ReplayPace, TestServer};
use frontdesk::server::Mode;
use frontdesk_testkit::phone::{http_client, new_call_sid};
use serde_json::Value;

use crate::deadlines::{answer, assert_handed_to_a_person};
use crate::twilio_gather::{engine, script, webhook_fields};

/// Files made immutable for as long as it lives; the flag is removed on drop, so a failing
/// test still leaves a temporary directory that can be deleted.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(paths: Vec<PathBuf>) -> Immutable {
        let mut guard = Immutable(Vec::new());
        for path in paths {
            chattr("+i", &path);
            guard.0.push(path);
        }
        guard
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = Command::new("chattr").arg("-i").arg(path).status();
        }
    }
}

fn chattr(flag: &str, path: &Path) {
    let status = Command::new("chattr").arg(flag).arg(path).status();
    assert!(
        status.as_ref().is_ok_and(|s| s.success()),
        "`chattr {flag} {}` failed ({status:?}): this test needs root and a file system with \
         the immutable flag (ext4, xfs, btrfs)",
        path.display()
    );
}

/// Fails (never skips) where files cannot be made immutable.
fn require_immutable_files(dir: &Path) {
    let probe = dir.join("chattr-probe");
    std::fs::write(&probe, b"probe").unwrap();
    let frozen = Immutable::set(vec![probe.clone()]);
    let lsattr = Command::new("lsattr").arg(&probe).output();
    let shown = lsattr
        .as_ref()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    assert!(
        shown
            .split_whitespace()
            .next()
            .is_some_and(|f| f.contains('i')),
        "lsattr does not show the immutable flag on {} ({lsattr:?})",
        probe.display()
    );
    assert!(
        std::fs::OpenOptions::new()
            .write(true)
            .open(&probe)
            .is_err(),
        "an immutable file could be opened for writing"
    );
    drop(frozen);
    std::fs::remove_file(&probe).unwrap();
}

/// The database file, and the WAL index where there is one: the file a WAL server writes
/// through a memory map. (An immutable `-wal` fails the write before the index is touched.)
fn sqlite_files(database: &Path) -> Vec<PathBuf> {
    let mut files = vec![database.to_path_buf()];
    let mut shm = database.as_os_str().to_owned();
    shm.push("-shm");
    let shm = PathBuf::from(shm);
    if shm.exists() {
        files.push(shm);
    }
    files
}

async fn health(server: &TestServer) -> (u16, Value) {
    let url = format!("{}/health/detailed", server.line.server);
    let response = http_client().get(&url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_immutable_database_file_fails_the_booking_and_the_server_keeps_running() {
    let script = script("booking_all_in_one");
    let server = TestServer::start(engine(), &script, Mode::Gather, &ReplayPace::default())
        .await
        .unwrap();
    let database = server.database_path();
    require_immutable_files(database.parent().unwrap());

    let sid = new_call_sid();
    answer(&server, "/twilio/voice", webhook_fields(&sid, &[])).await;
    let said = |text: &str| webhook_fields(&sid, &[("SpeechResult", text), ("Confidence", "0.9")]);
    answer(
        &server,
        "/twilio/gather",
        said("can someone fix my ac in fort worth tomorrow at 2"),
    )
    .await;
    let confirm = answer(&server, "/twilio/gather", said("this is linda park")).await;
    assert!(confirm.contains("<Gather"), "{confirm}");
    let (status, before) = health(&server).await;
    assert_eq!(status, 200, "{before}");

    let frozen = Immutable::set(sqlite_files(&database));
    let booking = answer(&server, "/twilio/gather", said("yes please")).await;
    assert_handed_to_a_person(&server, &booking);

    // Still serving, and saying its storage is failing.
    let (status, body) = health(&server).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["database"]["ok"], false, "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    let error = body["database"]["error"].as_str().unwrap_or_default();
    assert!(error.contains(&*database.to_string_lossy()), "{error}");
    let new_call = answer(
        &server,
        "/twilio/voice",
        webhook_fields(&new_call_sid(), &[]),
    )
    .await;
    assert!(new_call.contains("<Response>"), "{new_call}");

    // Writable again: the held call record is written and storage is healthy.
    drop(frozen);
    let recorder = &server.server.state.driver().recorder;
    let drained = tokio::time::timeout(Duration::from_secs(60), async {
        while recorder.pending() > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(drained.is_ok(), "{} records still held", recorder.pending());
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    assert_eq!(record.outcome.as_deref(), Some("transferred"), "{record:?}");
    assert!(
        record
            .events
            .iter()
            .any(|e| e.kind == "tool_failed" && e.detail["error"] == "storage"),
        "{:#?}",
        record.events
    );
    assert!(
        server
            .storage
            .appointments_for_call(&sid)
            .await
            .unwrap()
            .is_empty()
    );
    let (status, body) = health(&server).await;
    assert_eq!(status, 200, "{body}");
    server.shutdown().await;
}
