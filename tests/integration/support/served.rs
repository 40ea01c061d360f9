//! `frontdesk serve` run as its own process, as an operator runs it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `frontdesk serve` as its own process on a free loopback port, its stderr read line by line.
pub struct Served {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Served {
    /// Starts `frontdesk serve` on `database` with `args`, in an environment with no keys of
    /// the developer's except `env`.
    pub fn spawn(database: &str, args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
            .args([
                "--project",
                env!("CARGO_MANIFEST_DIR"),
                "--database",
                database,
            ])
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("DEEPGRAM_API_KEY")
            .env_remove("TWILIO_AUTH_TOKEN")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Served {
            child,
            lines,
            seen: Vec::new(),
            _dir: None,
        }
    }

    /// Keeps `dir` (the server's files) until the server is dropped.
    pub fn keep(&mut self, dir: tempfile::TempDir) {
        self._dir = Some(dir);
    }

    /// The first stderr line containing `text`, waiting up to 60 s for it.
    pub fn line_with(&mut self, text: &str) -> String {
        let due = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(line) = self.seen.iter().find(|l| l.contains(text)) {
                return line.clone();
            }
            let left = due.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no line with {text:?} in:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// The server's address, from its start-up banner.
    pub fn address(&mut self) -> String {
        let banner = self.line_with("mode on http://");
        let after = banner.split("mode on http://").nth(1).unwrap();
        after.split_whitespace().next().unwrap().to_string()
    }

    /// SIGKILL: the process dies at once, with whatever it held in memory.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn interrupt(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
    }

    /// The exit code, waiting up to `limit`.
    pub fn exit_code(&mut self, limit: Duration) -> Option<i32> {
        let due = Instant::now() + limit;
        while Instant::now() < due {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("still running after {limit:?}:\n{}", self.seen.join("\n"));
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
