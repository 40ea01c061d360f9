//! A real headless Chromium driven over WebDriver (chromedriver on loopback), for the
//! dashboard's browser tests. `scripts/services.sh` installs Debian's `chromium` and
//! `chromium-driver`; a test fails (never skips) without them.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The W3C name of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver and one browser session, both ended on drop.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
    base: String,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a headless Chromium session in it.
    pub async fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (scripts/services.sh installs chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let http = frontdesk_testkit::phone::http_client();
        let due = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(Instant::now() < due, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                // Root in a container has no user namespaces for Chromium's sandbox.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1200,1000"]
            }
        }}});
        let answer: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {answer}"))
            .to_string();
        Browser {
            driver,
            http,
            session,
            base,
        }
    }

    /// The command's value, or WebDriver's error code and message.
    async fn try_command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, (String, Value)> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        match answer["value"]["error"].as_str() {
            Some(error) => Err((error.to_string(), answer["value"]["message"].clone())),
            None => Ok(answer["value"].clone()),
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        match self.try_command(method, path, body).await {
            Ok(value) => value,
            Err((_, message)) => self.fail(path, &message).await,
        }
    }

    /// Panics with WebDriver's message and the page as it was, to see why.
    async fn fail(&self, path: &str, message: &Value) -> ! {
        let source = self
            .http
            .get(format!("{}/session/{}/source", self.base, self.session))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap_or_default();
        panic!(
            "WebDriver {path}: {message}\non the page:\n{}",
            source["value"]
        );
    }

    pub async fn open(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn url(&self) -> String {
        let value = self.command(reqwest::Method::GET, "/url", None).await;
        value.as_str().unwrap_or_default().to_string()
    }

    /// The page's URL once it ends with `suffix`, waiting up to 5 s for a navigation a click
    /// started (a form's POST and its redirect finish after the click returns).
    pub async fn url_once_it_ends_with(&self, suffix: &str) -> String {
        let mut url = self.url().await;
        for _ in 0..100 {
            if url.ends_with(suffix) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            url = self.url().await;
        }
        url
    }

    /// The first element matching `css`, waiting up to 5 s for it: a click that submits a form
    /// returns before the next page is there, and the page in between has no elements.
    async fn find(&self, css: &str) -> String {
        let query = json!({ "using": "css selector", "value": css });
        let mut tries = 0;
        let found = loop {
            match self
                .try_command(reqwest::Method::POST, "/element", Some(query.clone()))
                .await
            {
                Ok(found) => break found,
                Err((error, _)) if error == "no such element" && tries < 100 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err((_, message)) => self.fail("/element", &message).await,
            }
        };
        match found[ELEMENT].as_str() {
            Some(element) => element.to_string(),
            None => panic!("no element {css}: {found}\n{}", self.source().await),
        }
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        let text = self
            .command(
                reqwest::Method::GET,
                &format!("/element/{element}/text"),
                None,
            )
            .await;
        text.as_str().unwrap_or_default().to_string()
    }

    /// How many elements match `css`.
    pub async fn count(&self, css: &str) -> usize {
        let found = self
            .command(
                reqwest::Method::POST,
                "/elements",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found.as_array().map_or(0, Vec::len)
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// The page's HTML.
    pub async fn source(&self) -> String {
        let value = self.command(reqwest::Method::GET, "/source", None).await;
        value.as_str().unwrap_or_default().to_string()
    }

    /// Saves a PNG of the window to `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let value = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap())
            .unwrap();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }

    /// Makes the window as tall as the page, for a screenshot of all of it.
    pub async fn fit_page(&self) {
        // From a short window: a page is never shorter than the window it is measured in.
        self.command(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": 1200, "height": 600 })),
        )
        .await;
        let height = self
            .command(
                reqwest::Method::POST,
                "/execute/sync",
                Some(
                    json!({ "script": "return document.documentElement.scrollHeight", "args": [] }),
                ),
            )
            .await
            .as_u64()
            .unwrap_or(1000)
            .clamp(400, 4000);
        self.command(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": 1200, "height": height + 120 })),
        )
        .await;
    }
}

impl Browser {
    /// Ends the session, which closes Chromium.
    pub async fn close(&self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self.http.delete(&url).send().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The chromedriver this test started (a failed test may not have closed its session).
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
