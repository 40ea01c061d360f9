//! Whether the SQLite file can still be written (a file made immutable, a disk remounted
//! read-only or full): said once, loudly, when it stops and when it comes back, and asked by the
//! health check.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::super::StorageError;

/// The database file and what the last write said about it.
#[derive(Debug)]
pub(super) struct Disk {
    path: PathBuf,
    /// Why the last write failed, while writes fail because the file cannot be written.
    failing: Mutex<Option<String>>,
}

impl Disk {
    pub(super) fn new(path: PathBuf) -> Disk {
        Disk {
            path,
            failing: Mutex::new(None),
        }
    }

    /// Passes a write's result through, noting whether the file took it.
    pub(super) fn wrote<T, E: Unwritable>(&self, result: Result<T, E>) -> Result<T, E> {
        match &result {
            Ok(_) => self.writable(),
            Err(error) if error.unwritable() => {
                // SQLite says "disk I/O error"; the system says why.
                let cause = match self.open_for_writing() {
                    Err((path, why)) => format!("{error} ({}: {why})", path.display()),
                    Ok(()) => error.to_string(),
                };
                self.unwritable(&cause);
            }
            Err(_) => {}
        }
        result
    }

    /// Whether the file can be written: it opens for writing, and the last write did not fail
    /// for want of it.
    pub(super) fn check(&self) -> Result<(), StorageError> {
        if let Err((path, why)) = self.open_for_writing() {
            let cause = why.to_string();
            self.unwritable(&format!("{}: {cause}", path.display()));
            return Err(StorageError::Unwritable { path, cause });
        }
        match self.lock().clone() {
            Some(cause) => Err(StorageError::Unwritable {
                path: self.path.clone(),
                cause,
            }),
            None => Ok(()),
        }
    }

    /// Opens the database and its journal for writing, which changes nothing and is refused for
    /// an immutable file or on a read-only disk.
    fn open_for_writing(&self) -> Result<(), (PathBuf, std::io::Error)> {
        for path in [self.path.clone(), journal(&self.path)] {
            match std::fs::OpenOptions::new().write(true).open(&path) {
                Ok(_) => {}
                // The rollback journal exists only while a write is in progress.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && path != self.path => {}
                Err(e) => return Err((path, e)),
            }
        }
        Ok(())
    }

    fn unwritable(&self, cause: &str) {
        let mut failing = self.lock();
        if failing.is_none() {
            tracing::error!(path = %self.path.display(), %cause,
                "the SQLite database cannot be written: bookings fail (callers get an apology and a person) and call records are held until it can");
        }
        *failing = Some(cause.to_string());
    }

    fn writable(&self) {
        if self.lock().take().is_some() {
            tracing::info!(path = %self.path.display(), "the SQLite database can be written again");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        // The guarded value is a plain note; a panic elsewhere cannot leave it half-written.
        self.failing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn journal(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-journal");
    PathBuf::from(name)
}

/// Errors that say the file (or its disk) refuses writes, as opposed to refusing this write.
pub(super) trait Unwritable: std::fmt::Display {
    fn unwritable(&self) -> bool;
}

impl Unwritable for sqlx::Error {
    fn unwritable(&self) -> bool {
        match self {
            sqlx::Error::Io(_) => true,
            // SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, extended codes included.
            sqlx::Error::Database(db) => db
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| matches!(code & 0xff, 8 | 10 | 13 | 14)),
            _ => false,
        }
    }
}

impl Unwritable for StorageError {
    fn unwritable(&self) -> bool {
        match self {
            StorageError::Database(error) => error.unwritable(),
            StorageError::Unwritable { .. } => true,
            _ => false,
        }
    }
}
