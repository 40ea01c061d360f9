//! `frontdesk-phone` as a newcomer runs it: the messages it prints when something is off.

use std::process::Command;

#[test]
fn with_no_server_the_phone_asks_whether_one_is_running() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("http://127.0.0.1:{port}");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/transcripts/emergency_gas.yaml"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_frontdesk-phone"))
        .args([
            "--auth-token",
            "local-test-token",
            "--server",
            &server,
            "--script",
            script,
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains(&format!("is `frontdesk serve` running on {server}?")),
        "{text}"
    );
}
