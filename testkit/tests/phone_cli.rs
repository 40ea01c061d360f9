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

#[test]
fn a_refused_signature_names_the_token_setting() {
    // A server that refuses every signature, as `frontdesk serve` does with another token.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let refuse = axum::Router::new().fallback(|| async {
            (
                axum::http::StatusCode::FORBIDDEN,
                "invalid Twilio signature",
            )
        });
        let _ = axum::serve(listener, refuse).await;
    });
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/transcripts/emergency_gas.yaml"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_frontdesk-phone"))
        .args(["--server", &server, "--script", script])
        .env_remove("TWILIO_AUTH_TOKEN")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains("the server refused the signature") && text.contains("TWILIO_AUTH_TOKEN"),
        "{text}"
    );
}
