//! SQLite backend: one file, a rollback journal, a small pool.
//!
//! Journal: not WAL. WAL keeps its index in `<file>-shm`, memory-mapped by every connection, and
//! a write through that mapping to a file that can no longer be written (made immutable, a disk
//! remounted read-only) is a SIGBUS that kills the process with every live call and no log line.
//! The rollback journal writes through ordinary system calls only, so the same fault is an
//! ordinary error: tools fail, the flow apologises and transfers, call records are held. It
//! also keeps the file readable and writable by other processes (`frontdesk calls show` while
//! `serve` runs), which an in-memory WAL index (`locking_mode=EXCLUSIVE`) would not. The price
//! is a sync per commit; call records are committed in batches and bookings in groups
//! ([`group_commit`]), so that is per batch.
//!
//! Durability: `journal_mode=PERSIST` keeps the journal file between transactions and zeroes
//! its header at commit, instead of creating, syncing the directory for and deleting it every
//! time (DELETE); what a commit guarantees is the same. `synchronous=NORMAL` syncs the journal
//! before the database is changed and the database before a commit returns, so a committed
//! booking survives a crash of the process or the machine; SQLite documents a very small chance
//! that a power cut at the wrong moment corrupts a rollback-journal database on older file
//! systems, which `FULL` (one more sync per commit) closes.
//!
//! Races: every read-check-write sequence (book, reschedule, business sync) runs in a
//! `BEGIN IMMEDIATE` transaction, which takes SQLite's single write lock *before* the capacity
//! count is read. Two calls racing for the last place are therefore serialised: the second one
//! waits (busy timeout) and then counts the first one's committed booking. A plain `BEGIN` would
//! start as a reader, and the later upgrade to writer can fail with `SQLITE_BUSY` (a deadlock
//! with another would-be writer) instead of waiting.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::DateTime;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::OwnedMutexGuard;

mod disk;
mod group_commit;

use disk::Disk;

use super::body::{Dialect, storage_body};
use super::sql;
use super::{Appointment, NewAppointment, StorageError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Enough connections for concurrent calls; writers queue on the write lock anyway.
const MAX_CONNECTIONS: u32 = 10;
/// How long a writer waits for the write lock before giving up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Storage in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    pool: SqlitePool,
    /// SQLite lets one writer in at a time and makes the others retry on a sleeping backoff,
    /// which under load leaves some waiting for seconds. Writers queue here instead, in order.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Whether the file takes writes (see [`Disk`]).
    disk: Arc<Disk>,
    /// Bookings committed in groups (see [`group_commit`]).
    bookings: group_commit::Bookings,
}

impl SqliteStorage {
    /// Opens (creating if needed) the database named by `url` (`sqlite://path`, `sqlite:path` or
    /// a bare path) and applies migrations.
    pub async fn open(url: &str) -> Result<Self, StorageError> {
        let path = file_path(url)?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Blocking, but this runs once at start-up.
            std::fs::create_dir_all(parent).map_err(|e| {
                StorageError::Config(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Persist)
            .synchronous(SqliteSynchronous::Normal)
            // The default; said here because a memory-mapped file is what SIGBUS needs.
            .pragma("mmap_size", "0")
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        tracing::info!(path = %path.display(), "sqlite storage ready");
        let writer = Arc::new(tokio::sync::Mutex::new(()));
        // Bookings have a connection of their own, so their prepared statements stay prepared.
        let booking_connection = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        let bookings = group_commit::Bookings::start(booking_connection, writer.clone());
        Ok(SqliteStorage {
            pool,
            writer,
            disk: Arc::new(Disk::new(path)),
            bookings,
        })
    }
}

impl Dialect for SqliteStorage {
    type Db = Sqlite;
    type WriteTurn = OwnedMutexGuard<()>;

    const NAME: &'static str = "sqlite";
    /// No row locks: the write lock taken by `BEGIN IMMEDIATE` covers the visit.
    const APPOINTMENT_FOR_CHANGE: &'static str = sql::BY_ID;
    const ADD_EVENT: &'static str =
        "INSERT INTO call_events (call_id, kind, detail) VALUES ($1, $2, $3)";
    const EVENTS: &'static str =
        "SELECT id, kind, detail FROM call_events WHERE call_id = $1 ORDER BY id";
    /// One writer at a time: the claim's UPDATE cannot race another.
    const SKIP_LOCKED: &'static str = "";

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn write_turn(&self) -> OwnedMutexGuard<()> {
        self.writer.clone().lock_owned().await
    }

    async fn begin_write(
        &self,
    ) -> Result<(OwnedMutexGuard<()>, Transaction<'static, Sqlite>), StorageError> {
        let turn = self.write_turn().await;
        Ok((turn, self.pool.begin_with("BEGIN IMMEDIATE").await?))
    }

    /// `BEGIN IMMEDIATE` already holds the one write lock.
    async fn lock_for_sync(_tx: &mut Transaction<'static, Sqlite>) -> Result<(), StorageError> {
        Ok(())
    }

    /// `BEGIN IMMEDIATE` already holds the one write lock.
    async fn lock_slot(
        _tx: &mut Transaction<'static, Sqlite>,
        _location: &str,
        _start: DateTime,
    ) -> Result<(), StorageError> {
        Ok(())
    }

    fn wrote<T>(&self, result: Result<T, StorageError>) -> Result<T, StorageError> {
        self.disk.wrote(result)
    }

    fn check_writable(&self) -> Result<(), StorageError> {
        self.disk.check()
    }

    async fn book(&self, new: &NewAppointment) -> Result<Appointment, StorageError> {
        self.bookings.book(new).await
    }
}

storage_body!(SqliteStorage);

/// The file a SQLite URL (as [`super::open`] reads it) names; `None` for PostgreSQL and
/// unusable URLs.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return None;
    }
    (url.starts_with("sqlite:") || !url.contains("://"))
        .then(|| file_path(url).ok())
        .flatten()
}

/// The file path inside a SQLite URL; query parameters are not supported.
fn file_path(url: &str) -> Result<PathBuf, StorageError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if rest.contains('?') {
        return Err(StorageError::Config(format!(
            "SQLite URL options are not supported: {url:?}"
        )));
    }
    if rest.is_empty() || rest == ":memory:" {
        return Err(StorageError::Config(
            "SQLite storage needs a file path (in-memory databases are not shared)".into(),
        ));
    }
    Ok(Path::new(rest).to_path_buf())
}
