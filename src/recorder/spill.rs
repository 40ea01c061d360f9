//! The spill file: call-record writes the recorder cannot keep in memory (more than it may hold
//! during a long outage, or everything held when the process stops while the database is away),
//! one JSON line each, taken back in order once the database takes writes again, and removed
//! when all of them are written.
//!
//! The file is the tail of the recorder's queue: once something is in it, new writes are
//! appended behind it rather than overtaking it, so a call's turns never reach the database
//! before the call does.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncBufReadExt, AsyncSeekExt, AsyncWriteExt, BufReader, BufWriter};

use crate::storage::CallWrite;

/// The spill file's name in its directory.
pub const FILE: &str = "records-spill.jsonl";
/// Lines that could not be read back, kept for a person to look at.
pub const CORRUPT: &str = "records-spill.corrupt.jsonl";
/// Held by the process that spills into the directory.
const LOCK: &str = "records-spill.lock";
/// The spill file takes no more than this (about two million writes); beyond it writes are
/// dropped, with an error log.
pub const LIMIT_BYTES: u64 = 512 * 1024 * 1024;

pub struct Spill {
    dir: PathBuf,
    path: PathBuf,
    /// Held for as long as this process spills here: two processes appending to one file would
    /// each replay the other's writes.
    _lock: std::fs::File,
    appender: Option<BufWriter<File>>,
    /// Bytes of the file already taken back into memory.
    read_at: u64,
    /// Bytes in the file, once buffered appends are flushed.
    len: u64,
    /// Lines not yet taken back.
    backlog: usize,
    /// Whether the file is there.
    exists: bool,
    limit: u64,
}

impl Spill {
    /// Opens the spill directory (creating it), takes its lock, and counts what an earlier run
    /// left to replay.
    pub async fn open(dir: &Path, limit: u64) -> std::io::Result<Spill> {
        tokio::fs::create_dir_all(dir).await?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK))?;
        if let Err(e) = lock.try_lock() {
            return Err(std::io::Error::other(format!(
                "{} is in use by another process ({e}); give each server its own --spill-dir",
                dir.join(LOCK).display()
            )));
        }
        let path = dir.join(FILE);
        let (mut len, mut backlog, mut ends_in_newline) = (0, 0, true);
        let opened = File::open(&path).await;
        let exists = opened.is_ok();
        if let Ok(file) = opened {
            let mut lines = BufReader::new(file);
            let mut line = Vec::new();
            loop {
                line.clear();
                let n = lines.read_until(b'\n', &mut line).await?;
                if n == 0 {
                    break;
                }
                len += n as u64;
                backlog += 1;
                ends_in_newline = line.ends_with(b"\n");
            }
        }
        let mut spill = Spill {
            dir: dir.to_path_buf(),
            path,
            _lock: lock,
            appender: None,
            read_at: 0,
            len,
            backlog,
            exists,
            limit,
        };
        if !ends_in_newline {
            // A line cut short by a crash: end it, so that it is read as one (corrupt) line
            // and what is appended later starts a line of its own.
            spill.appender().await?.write_all(b"\n").await?;
            spill.len += 1;
            spill.flush().await?;
        }
        Ok(spill)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lines in the file not yet taken back.
    pub fn backlog(&self) -> usize {
        self.backlog
    }

    async fn appender(&mut self) -> std::io::Result<&mut BufWriter<File>> {
        if self.appender.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .await?;
            self.appender = Some(BufWriter::new(file));
            self.exists = true;
        }
        // Just set when it was empty.
        self.appender
            .as_mut()
            .ok_or_else(|| std::io::Error::other("spill file not open"))
    }

    /// Appends a write; `Ok(false)` when the file is full and the write was dropped.
    pub async fn append(&mut self, write: &CallWrite) -> std::io::Result<bool> {
        let mut line = serde_json::to_vec(write)?;
        line.push(b'\n');
        if self.len + line.len() as u64 > self.limit {
            return Ok(false);
        }
        self.appender().await?.write_all(&line).await?;
        self.len += line.len() as u64;
        self.backlog += 1;
        Ok(true)
    }

    /// Hands buffered appends to the operating system (they survive the process, if not the
    /// machine).
    pub async fn flush(&mut self) -> std::io::Result<()> {
        if let Some(appender) = &mut self.appender {
            appender.flush().await?;
        }
        Ok(())
    }

    /// Takes back up to `max` lines, oldest first: the writes read, and how many lines could
    /// not be read (each is logged and kept aside in [`CORRUPT`]).
    pub async fn take(&mut self, max: usize) -> std::io::Result<(Vec<CallWrite>, usize)> {
        self.flush().await?;
        let mut file = File::open(&self.path).await?;
        file.seek(SeekFrom::Start(self.read_at)).await?;
        let mut lines = BufReader::new(file);
        let (mut writes, mut corrupt) = (Vec::new(), 0);
        let mut line = String::new();
        while writes.len() + corrupt < max && self.backlog > 0 {
            line.clear();
            let n = lines.read_line(&mut line).await?;
            if n == 0 {
                break;
            }
            self.read_at += n as u64;
            self.backlog -= 1;
            match serde_json::from_str::<CallWrite>(line.trim_end()) {
                Ok(write) => writes.push(write),
                Err(error) => {
                    corrupt += 1;
                    self.keep_aside(&line, &error).await;
                }
            }
        }
        Ok((writes, corrupt))
    }

    async fn keep_aside(&self, line: &str, error: &serde_json::Error) {
        let aside = self.dir.join(CORRUPT);
        tracing::error!(file = %self.path.display(), %error, kept_in = %aside.display(),
            "a spilled call-record write cannot be read; it is kept aside and the rest are written");
        let kept = async {
            let mut file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&aside)
                .await?;
            file.write_all(line.trim_end().as_bytes()).await?;
            file.write_all(b"\n").await?;
            file.flush().await
        };
        if let Err(e) = kept.await {
            tracing::error!(file = %aside.display(), error = %e, "could not keep the unreadable line aside; it is lost");
        }
    }

    /// Removes the file once everything in it was taken back (and, by the caller, written).
    pub async fn remove_if_drained(&mut self) -> std::io::Result<()> {
        if self.backlog > 0 || !self.exists {
            return Ok(());
        }
        self.flush().await?;
        self.appender = None;
        tokio::fs::remove_file(&self.path).await?;
        tracing::info!(file = %self.path.display(), "every spilled call-record write is in the database; the spill file is removed");
        self.exists = false;
        self.len = 0;
        self.read_at = 0;
        Ok(())
    }

    /// Makes the file hold `held` followed by the lines not yet taken back, and syncs it to
    /// disk: what is left when the process stops.
    pub async fn keep(&mut self, held: &[CallWrite]) -> std::io::Result<()> {
        self.flush().await?;
        self.appender = None;
        let tmp = self.dir.join(format!("{FILE}.tmp"));
        let mut out = BufWriter::new(File::create(&tmp).await?);
        for write in held {
            out.write_all(&serde_json::to_vec(write)?).await?;
            out.write_all(b"\n").await?;
        }
        if let Ok(mut rest) = File::open(&self.path).await {
            rest.seek(SeekFrom::Start(self.read_at)).await?;
            tokio::io::copy(&mut rest, &mut out).await?;
        }
        out.flush().await?;
        out.get_mut().sync_all().await?;
        tokio::fs::rename(&tmp, &self.path).await?;
        self.exists = true;
        self.backlog += held.len();
        self.read_at = 0;
        self.len = tokio::fs::metadata(&self.path).await?.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Speaker;

    fn turn(seq: u32) -> CallWrite {
        CallWrite::Turn {
            call_id: "CA1".into(),
            seq,
            speaker: Speaker::Caller,
            text: format!("line {seq}"),
            state: None,
        }
    }

    #[tokio::test]
    async fn what_is_kept_comes_back_in_order_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::open(dir.path(), LIMIT_BYTES).await.unwrap();
        for seq in 3..=4 {
            assert!(spill.append(&turn(seq)).await.unwrap());
        }
        let (taken, corrupt) = spill.take(1).await.unwrap();
        assert_eq!((taken, corrupt), (vec![turn(3)], 0));
        // Stopping with 1 and 2 held and 3 taken (not written): 1, 2, 3 and 4 are kept.
        spill.keep(&[turn(1), turn(2), turn(3)]).await.unwrap();
        drop(spill);

        let mut spill = Spill::open(dir.path(), LIMIT_BYTES).await.unwrap();
        assert_eq!(spill.backlog(), 4);
        let (taken, _) = spill.take(10).await.unwrap();
        assert_eq!(taken, (1..=4).map(turn).collect::<Vec<_>>());
        spill.remove_if_drained().await.unwrap();
        assert!(!dir.path().join(FILE).exists());
    }

    #[tokio::test]
    async fn a_full_file_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::open(dir.path(), 100).await.unwrap();
        assert!(spill.append(&turn(1)).await.unwrap());
        assert!(!spill.append(&turn(2)).await.unwrap());
        assert_eq!(spill.backlog(), 1);
    }

    #[tokio::test]
    async fn a_second_process_cannot_spill_into_the_same_directory() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Spill::open(dir.path(), LIMIT_BYTES).await.unwrap();
        let second = Spill::open(dir.path(), LIMIT_BYTES).await;
        assert!(second.is_err());
    }

    #[tokio::test]
    async fn a_line_cut_short_is_kept_aside_and_the_rest_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let good = serde_json::to_string(&turn(1)).unwrap();
        std::fs::write(dir.path().join(FILE), format!("{good}\n{{\"write\":\"tu")).unwrap();
        let mut spill = Spill::open(dir.path(), LIMIT_BYTES).await.unwrap();
        assert!(spill.append(&turn(2)).await.unwrap());
        let (taken, corrupt) = spill.take(10).await.unwrap();
        assert_eq!((taken, corrupt), (vec![turn(1), turn(2)], 1));
        let aside = std::fs::read_to_string(dir.path().join(CORRUPT)).unwrap();
        assert_eq!(aside, "{\"write\":\"tu\n");
    }
}
