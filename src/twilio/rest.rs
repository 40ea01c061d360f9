//! A thin client for the parts of Twilio's REST API Frontdesk uses: updating a live call (new
//! TwiML, a redirect, or hanging up), recording it, placing a call and sending a text
//! (docs/protocols.md §2.4 to §2.6).

use std::time::Duration;

/// Where and as whom to call the API.
#[derive(Debug, Clone)]
pub struct TwilioRestConfig {
    /// `https://api.twilio.com`, or a fake's loopback address in tests.
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// Twilio answered with an error. `code` is Twilio's error code (20003 = authentication
    /// failed, 20404 = not found, …) when the body carried one.
    #[error("Twilio API error (HTTP {status}{}): {message}", code.map(|c| format!(", code {c}")).unwrap_or_default())]
    Api {
        status: u16,
        code: Option<u32>,
        message: String,
    },
    /// Twilio could not be reached or did not answer in time.
    #[error("could not reach Twilio at {url}: {detail}")]
    Network { url: String, detail: String },
    /// The client could not be set up, or was handed an identifier it will not put in a URL.
    #[error("Twilio REST client: {0}")]
    Config(String),
}

/// Twilio's JSON error body.
#[derive(Debug, serde::Deserialize)]
struct ApiErrorBody {
    code: Option<u32>,
    message: Option<String>,
}

/// Per-request time limit: a call update that takes longer is stale anyway, and the call
/// loop must not hang on it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Pause before the one retry.
const RETRY_DELAY: Duration = Duration::from_millis(250);

/// A call to place (docs/protocols.md §2.6).
#[derive(Debug, Clone, Copy)]
pub struct OutboundCall<'a> {
    pub from: &'a str,
    pub to: &'a str,
    /// Where Twilio fetches the call's TwiML once it is answered.
    pub url: &'a str,
    /// Where Twilio reports the call's end.
    pub status_callback: &'a str,
}

pub struct TwilioRest {
    client: reqwest::Client,
    config: TwilioRestConfig,
}

impl TwilioRest {
    pub fn new(mut config: TwilioRestConfig) -> Result<Self, RestError> {
        check_sid("account SID", &config.account_sid)?;
        config.base_url = config.base_url.trim_end_matches('/').to_string();
        if !(config.base_url.starts_with("https://") || config.base_url.starts_with("http://")) {
            return Err(RestError::Config(format!(
                "base URL {:?} is not http(s)",
                config.base_url
            )));
        }
        // reqwest is built without a default crypto provider; installing one twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| RestError::Config(e.to_string()))?;
        Ok(TwilioRest { client, config })
    }

    /// Replaces what the call is doing with `twiml` (e.g. a `<Dial>` to transfer). On a call in
    /// a Media Stream this ends the stream.
    pub async fn update_call_twiml(&self, call_sid: &str, twiml: &str) -> Result<(), RestError> {
        self.update_call(call_sid, &[("Twiml", twiml)]).await
    }

    /// Ends the call.
    pub async fn hang_up(&self, call_sid: &str) -> Result<(), RestError> {
        self.update_call(call_sid, &[("Status", "completed")]).await
    }

    /// Makes Twilio fetch new TwiML for the call from `url` with a POST.
    pub async fn redirect(&self, call_sid: &str, url: &str) -> Result<(), RestError> {
        self.update_call(call_sid, &[("Url", url), ("Method", "POST")])
            .await
    }

    /// Sends a text; returns Twilio's message SID. Not retried here: the outbox retries, and
    /// a text sent twice is worse than one sent late.
    pub async fn send_sms(&self, from: &str, to: &str, body: &str) -> Result<String, RestError> {
        let form = [("To", to), ("From", from), ("Body", body)];
        self.create("Messages.json", &form).await
    }

    /// The SID of a text already sent from `from` to `to` with exactly `body`, among the most
    /// recent ones Twilio lists, if there is one: how a worker taking over a text whose sender
    /// died mid-send tells whether Twilio already took it.
    pub async fn find_sent_sms(
        &self,
        from: &str,
        to: &str,
        body: &str,
    ) -> Result<Option<String>, RestError> {
        let query = serde_urlencoded::to_string([("To", to), ("From", from), ("PageSize", "50")])
            .map_err(|e| RestError::Config(e.to_string()))?;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json?{query}",
            self.config.base_url, self.config.account_sid
        );
        let listed = self.get(&url).await?;
        #[derive(serde::Deserialize)]
        struct Listed {
            messages: Vec<Listed1>,
        }
        #[derive(serde::Deserialize)]
        struct Listed1 {
            sid: String,
            body: Option<String>,
        }
        let listed: Listed = serde_json::from_str(&listed).map_err(|e| RestError::Api {
            status: 200,
            code: None,
            message: format!("the message list could not be read: {e}"),
        })?;
        Ok(listed
            .messages
            .into_iter()
            .find(|m| m.body.as_deref() == Some(body))
            .map(|m| m.sid))
    }

    /// Places a call that fetches its TwiML from `url` once answered, with answering-machine
    /// detection that waits for a voicemail greeting to end (`AnsweredBy` then says who
    /// answered); returns the call's SID. Not retried here, like texts.
    pub async fn place_call(&self, call: &OutboundCall<'_>) -> Result<String, RestError> {
        let form = [
            ("To", call.to),
            ("From", call.from),
            ("Url", call.url),
            ("Method", "POST"),
            ("MachineDetection", "DetectMessageEnd"),
            ("StatusCallback", call.status_callback),
            ("StatusCallbackEvent", "completed"),
        ];
        self.create("Calls.json", &form).await
    }

    /// Starts recording both sides of a live call; Twilio posts the finished recording to
    /// `status_callback`. Returns the recording's SID.
    pub async fn start_recording(
        &self,
        call_sid: &str,
        status_callback: &str,
    ) -> Result<String, RestError> {
        check_sid("call SID", call_sid)?;
        let form = [
            ("RecordingStatusCallback", status_callback),
            ("RecordingStatusCallbackEvent", "completed"),
            ("RecordingChannels", "dual"),
        ];
        self.create(&format!("Calls/{call_sid}/Recordings.json"), &form)
            .await
    }

    /// Creates a resource under the account; its `sid`.
    async fn create(&self, resource: &str, form: &[(&str, &str)]) -> Result<String, RestError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/{resource}",
            self.config.base_url, self.config.account_sid
        );
        let created = self.post_form(&url, form).await?;
        #[derive(serde::Deserialize)]
        struct Created {
            sid: String,
        }
        serde_json::from_str::<Created>(&created)
            .map(|resource| resource.sid)
            .map_err(|e| RestError::Api {
                status: 201,
                code: None,
                message: format!("the created {resource} has no sid: {e}"),
            })
    }

    async fn update_call(&self, call_sid: &str, form: &[(&str, &str)]) -> Result<(), RestError> {
        check_sid("call SID", call_sid)?;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Calls/{}.json",
            self.config.base_url, self.config.account_sid, call_sid
        );
        let updated = match self.post_form(&url, form).await {
            // Retry once when the failure may be transient. Updating a call with the same
            // form twice has the same effect as once.
            Err(e) if is_transient(&e) => {
                tracing::warn!(call_sid, error = %e, "Twilio call update failed; retrying once");
                tokio::time::sleep(RETRY_DELAY).await;
                self.post_form(&url, form).await
            }
            other => other,
        };
        updated.map(|_| ())
    }

    /// POSTs a form; the body of a successful answer.
    async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Result<String, RestError> {
        self.send(url, self.client.post(url).form(form)).await
    }

    /// GETs a resource; the body of a successful answer.
    async fn get(&self, url: &str) -> Result<String, RestError> {
        self.send(url, self.client.get(url)).await
    }

    async fn send(&self, url: &str, request: reqwest::RequestBuilder) -> Result<String, RestError> {
        let response = request
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .send()
            .await
            .map_err(|e| RestError::Network {
                url: url.to_string(),
                detail: error_chain(&e),
            })?;
        let status = response.status();
        if status.is_success() {
            return response.text().await.map_err(|e| RestError::Network {
                url: url.to_string(),
                detail: error_chain(&e),
            });
        }
        // The body is only read for the message; failing to read it still leaves the status.
        let body = response.text().await.unwrap_or_default();
        Err(api_error(status.as_u16(), &body))
    }
}

fn api_error(status: u16, body: &str) -> RestError {
    match serde_json::from_str::<ApiErrorBody>(body) {
        Ok(parsed) => RestError::Api {
            status,
            code: parsed.code,
            message: parsed.message.unwrap_or_else(|| "(no message)".to_string()),
        },
        Err(_) => RestError::Api {
            status,
            code: None,
            // Not Twilio's JSON (a proxy's HTML page, say): keep a short excerpt.
            message: body
                .chars()
                .take(200)
                .collect::<String>()
                .trim()
                .to_string(),
        },
    }
}

/// Whether the same request may succeed later: the network, Twilio's own errors, and its rate
/// limit (429).
pub fn is_transient(error: &RestError) -> bool {
    match error {
        RestError::Network { .. } => true,
        RestError::Api { status, .. } => *status >= 500 || *status == 429,
        RestError::Config(_) => false,
    }
}

/// SIDs go into the URL path, so only letters and digits are allowed: a SID from a webhook
/// cannot walk the path to another resource.
fn check_sid(what: &str, sid: &str) -> Result<(), RestError> {
    if sid.is_empty() || sid.len() > 64 || !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(RestError::Config(format!("invalid {what} {sid:?}")));
    }
    Ok(())
}

/// reqwest's top-level message ("error sending request") hides the cause; the chain has it.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontdesk_telephony::twiml::{self, Dial, Verb};
    use frontdesk_testkit::fake_twilio_rest::FakeTwilioRest;

    const ACCOUNT: &str = "AC00000000000000000000000000000000";
    const TOKEN: &str = "secret-token";
    const CALL: &str = "CA0123456789abcdef0123456789abcdef";

    fn client(base_url: &str, token: &str) -> TwilioRest {
        match TwilioRest::new(TwilioRestConfig {
            base_url: base_url.to_string(),
            account_sid: ACCOUNT.to_string(),
            auth_token: token.to_string(),
        }) {
            Ok(c) => c,
            Err(e) => panic!("client: {e}"),
        }
    }

    async fn fake() -> FakeTwilioRest {
        match FakeTwilioRest::start(ACCOUNT, TOKEN).await {
            Ok(f) => f,
            Err(e) => panic!("fake: {e}"),
        }
    }

    #[tokio::test]
    async fn update_with_twiml_reaches_the_fake() {
        let fake = fake().await;
        let rest = client(&fake.base_url(), TOKEN);
        let doc = twiml::render(&[Verb::Dial(Dial {
            number: "+15558675310".to_string(),
            ..Default::default()
        })]);
        let result = rest.update_call_twiml(CALL, &doc).await;
        assert!(result.is_ok(), "{result:?}");
        let updates = fake.updates();
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].call_sid, CALL);
        assert_eq!(updates[0].twiml.as_deref(), Some(doc.as_str()));
        assert_eq!(updates[0].url, None);
        assert_eq!(updates[0].status, None);
    }

    #[tokio::test]
    async fn hang_up_and_redirect() {
        let fake = fake().await;
        let rest = client(&format!("{}/", fake.base_url()), TOKEN);
        let redirect = rest
            .redirect(CALL, "https://example.com/voice/next?a=1&b=2")
            .await;
        assert!(redirect.is_ok(), "{redirect:?}");
        let hang_up = rest.hang_up(CALL).await;
        assert!(hang_up.is_ok(), "{hang_up:?}");
        let updates = fake.updates();
        assert_eq!(updates.len(), 2);
        assert_eq!(
            updates[0].url.as_deref(),
            Some("https://example.com/voice/next?a=1&b=2")
        );
        assert_eq!(updates[1].status.as_deref(), Some("completed"));
        // The call is over: Twilio refuses to update it again.
        match rest.hang_up(CALL).await {
            Err(RestError::Api {
                status: 400,
                code: Some(21220),
                ..
            }) => {}
            other => panic!("expected 21220, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn wrong_token_is_an_api_error_20003() {
        let fake = fake().await;
        let rest = client(&fake.base_url(), "wrong");
        match rest.hang_up(CALL).await {
            Err(RestError::Api {
                status: 401,
                code: Some(20003),
                message,
            }) => {
                assert!(!message.is_empty());
            }
            other => panic!("expected 401/20003, got {other:?}"),
        }
        assert!(fake.updates().is_empty());
    }

    #[tokio::test]
    async fn subscribers_see_updates_for_their_call_only() {
        let fake = fake().await;
        let mut mine = fake.subscribe(CALL);
        let mut other = fake.subscribe("CA11111111111111111111111111111111");
        let rest = client(&fake.base_url(), TOKEN);
        let result = rest
            .update_call_twiml(CALL, "<Response><Hangup/></Response>")
            .await;
        assert!(result.is_ok(), "{result:?}");
        let update = tokio::time::timeout(Duration::from_secs(2), mine.recv()).await;
        let Ok(Some(update)) = update else {
            panic!("no update: {update:?}")
        };
        assert_eq!(
            update.twiml.as_deref(),
            Some("<Response><Hangup/></Response>")
        );
        assert!(other.try_recv().is_err());
    }

    #[tokio::test]
    async fn one_server_error_is_retried_two_are_not() {
        let fake = fake().await;
        let rest = client(&fake.base_url(), TOKEN);
        fake.fail_next(1);
        let result = rest.redirect(CALL, "https://example.com/next").await;
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(fake.updates().len(), 1);
        fake.fail_next(2);
        match rest.redirect(CALL, "https://example.com/next").await {
            Err(RestError::Api { status: 500, .. }) => {}
            other => panic!("expected a 500, got {other:?}"),
        }
        assert_eq!(fake.updates().len(), 1);
    }

    #[tokio::test]
    async fn unreachable_server_is_a_network_error_after_a_retry() {
        // Bind then drop a listener to get a port nobody listens on.
        let port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(addr) => addr.port(),
            Err(e) => panic!("bind: {e}"),
        };
        let rest = client(&format!("http://127.0.0.1:{port}"), TOKEN);
        let started = std::time::Instant::now();
        match rest.hang_up(CALL).await {
            Err(RestError::Network { .. }) => {}
            other => panic!("expected a network error, got {other:?}"),
        }
        assert!(started.elapsed() >= RETRY_DELAY, "the retry did not happen");
    }

    #[tokio::test]
    async fn bad_sids_never_reach_the_network() {
        let rest = client("http://127.0.0.1:9", TOKEN);
        assert!(matches!(
            rest.hang_up("../Messages").await,
            Err(RestError::Config(_))
        ));
        assert!(matches!(rest.hang_up("").await, Err(RestError::Config(_))));
        let bad_account = TwilioRest::new(TwilioRestConfig {
            base_url: "https://api.twilio.com".to_string(),
            account_sid: "AC/x".to_string(),
            auth_token: TOKEN.to_string(),
        });
        assert!(matches!(bad_account, Err(RestError::Config(_))));
    }

    #[test]
    fn error_bodies_are_parsed() {
        let body = r#"{"code":21211,"message":"The 'To' number +1555 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}"#;
        match api_error(400, body) {
            RestError::Api {
                status: 400,
                code: Some(21211),
                message,
            } => {
                assert!(message.starts_with("The 'To' number"));
            }
            other => panic!("{other:?}"),
        }
        match api_error(502, "<html>Bad Gateway</html>") {
            e @ RestError::Api {
                status: 502,
                code: None,
                ..
            } => {
                assert!(is_transient(&e));
                assert!(e.to_string().contains("Bad Gateway"));
            }
            other => panic!("{other:?}"),
        }
    }
}
