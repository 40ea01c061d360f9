use super::*;

const ACCOUNT: &str = "AC00000000000000000000000000000000";
const TOKEN: &str = "tok";
const CALL: &str = "CA0123456789abcdef0123456789abcdef";

async fn fake() -> FakeTwilioRest {
    match FakeTwilioRest::start(ACCOUNT, TOKEN).await {
        Ok(f) => f,
        Err(e) => panic!("fake: {e}"),
    }
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn post(
    fake: &FakeTwilioRest,
    path: &str,
    user: &str,
    pass: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = http()
        .post(format!("{}{path}", fake.base_url()))
        .basic_auth(user, Some(pass))
        .form(form)
        .send()
        .await;
    let response = match response {
        Ok(r) => r,
        Err(e) => panic!("request: {e}"),
    };
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

fn call_path(account: &str, call: &str) -> String {
    format!("/2010-04-01/Accounts/{account}/Calls/{call}.json")
}

#[tokio::test]
async fn update_answers_with_a_call_resource() {
    let fake = fake().await;
    let (status, body) = post(
        &fake,
        &call_path(ACCOUNT, CALL),
        ACCOUNT,
        TOKEN,
        &[("Twiml", "<Response/>")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sid"], CALL);
    assert_eq!(body["account_sid"], ACCOUNT);
    assert_eq!(body["status"], "in-progress");
    assert_eq!(body["uri"], call_path(ACCOUNT, CALL));
    let date = body["date_updated"].as_str().unwrap_or_default();
    assert!(jiff::fmt::rfc2822::parse(date).is_ok(), "{date}");
    assert!(date.ends_with("+0000"), "{date}");

    let (status, body) = post(
        &fake,
        &call_path(ACCOUNT, CALL),
        ACCOUNT,
        TOKEN,
        &[("Status", "completed")],
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("completed")));
    fake.shutdown().await;
}

async fn expect_error(
    fake: &FakeTwilioRest,
    (path, user, pass): (&str, &str, &str),
    form: &[(&str, &str)],
    status: u16,
    code: u64,
) {
    let (got_status, body) = post(fake, path, user, pass, form).await;
    let context = format!("{path} {user}:{pass} {form:?}: {body}");
    assert_eq!(
        (got_status, body["code"].as_u64()),
        (status, Some(code)),
        "{context}"
    );
    assert_eq!(
        body["status"].as_u64(),
        Some(u64::from(status)),
        "{context}"
    );
    let more_info = body["more_info"].as_str().unwrap_or_default();
    assert!(more_info.ends_with(&code.to_string()), "{context}");
}

#[tokio::test]
async fn rejects_what_twilio_rejects() {
    let fake = fake().await;
    let path = call_path(ACCOUNT, CALL);
    let hang_up = [("Status", "completed")];
    expect_error(&fake, (&path, ACCOUNT, "bad"), &hang_up, 401, 20003).await;
    expect_error(&fake, (&path, "ACother", TOKEN), &hang_up, 401, 20003).await;
    let other_account = call_path("AC11111111111111111111111111111111", CALL);
    expect_error(
        &fake,
        (&other_account, ACCOUNT, TOKEN),
        &hang_up,
        404,
        20404,
    )
    .await;
    let bad_sid = call_path(ACCOUNT, "CAnothex");
    expect_error(&fake, (&bad_sid, ACCOUNT, TOKEN), &hang_up, 404, 20404).await;
    expect_error(&fake, (&path, ACCOUNT, TOKEN), &[], 400, 21218).await;
    let both = [("Twiml", "<Response/>"), ("Url", "https://x")];
    expect_error(&fake, (&path, ACCOUNT, TOKEN), &both, 400, 21218).await;
    expect_error(
        &fake,
        (&path, ACCOUNT, TOKEN),
        &[("Status", "busy")],
        400,
        20001,
    )
    .await;
    let messages = "/2010-04-01/Accounts/x/Messages.json";
    expect_error(&fake, (messages, ACCOUNT, TOKEN), &[], 404, 20404).await;
    assert!(fake.updates().is_empty());
}

#[tokio::test]
async fn ended_calls_cannot_be_updated() {
    let fake = fake().await;
    fake.end_call(CALL);
    let (status, body) = post(
        &fake,
        &call_path(ACCOUNT, CALL),
        ACCOUNT,
        TOKEN,
        &[("Url", "https://x/y")],
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(21220)));
}

#[tokio::test]
async fn subscription_sees_a_dial() {
    let fake = fake().await;
    let mut updates = fake.subscribe(CALL);
    let dial = "<Response><Dial>+15558675310</Dial></Response>";
    let (status, _) = post(
        &fake,
        &call_path(ACCOUNT, CALL),
        ACCOUNT,
        TOKEN,
        &[("Twiml", dial)],
    )
    .await;
    assert_eq!(status, 200);
    match updates.try_recv() {
        Ok(update) => assert_eq!(update.twiml.as_deref(), Some(dial)),
        Err(e) => panic!("no update: {e}"),
    }
}

#[tokio::test]
async fn creates_calls() {
    let fake = fake().await;
    let path = format!("/2010-04-01/Accounts/{ACCOUNT}/Calls.json");
    let form = [
        ("To", "+15558675310"),
        ("From", "+15005550006"),
        ("Url", "https://example.com/voice"),
    ];
    let (status, body) = post(&fake, &path, ACCOUNT, TOKEN, &form).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "queued");
    assert_eq!(body["to"], "+15558675310");
    let sid = body["sid"].as_str().unwrap_or_default().to_string();
    assert!(is_call_sid(&sid), "{sid}");
    assert_eq!(fake.created_calls().len(), 1);
    assert_eq!(fake.created_calls()[0].call_sid, sid);
    let (status, body) = post(
        &fake,
        &path,
        ACCOUNT,
        TOKEN,
        &[("To", "+1"), ("From", "+2")],
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(21205)));
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let fake = fake().await;
    let url = format!("{}{}", fake.base_url(), call_path(ACCOUNT, CALL));
    fake.shutdown().await;
    assert!(
        http()
            .post(url)
            .form(&[("Status", "completed")])
            .send()
            .await
            .is_err()
    );
}
