//! A round-robin HTTP load balancer on loopback, in front of several `frontdesk serve`
//! replicas: each request goes to the next replica, and to the one after when a replica does
//! not answer (refused, reset: it died), as a load balancer's retry on connection failure does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub struct Balancer {
    pub url: String,
    backends: Arc<Backends>,
}

struct Backends {
    urls: std::sync::Mutex<Vec<String>>,
    next: AtomicUsize,
    /// Requests answered, per backend (same order as `urls`).
    served: std::sync::Mutex<Vec<usize>>,
    /// Added before each request is forwarded (a network between them), so calls last long
    /// enough to lose a replica in the middle of them.
    delay: std::sync::Mutex<std::time::Duration>,
    http: reqwest::Client,
}

impl Balancer {
    /// Binds a port first: the replicas need the balancer's URL (their public URL) to start.
    pub async fn bind() -> (Balancer, tokio::net::TcpListener) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        // reqwest is built without a default crypto provider (the product picks ring).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let backends = Arc::new(Backends {
            urls: Default::default(),
            next: AtomicUsize::new(0),
            served: Default::default(),
            delay: Default::default(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        });
        (Balancer { url, backends }, listener)
    }

    /// Starts balancing over `urls` (each `http://host:port`).
    pub fn start(&self, listener: tokio::net::TcpListener, urls: Vec<String>) {
        *self.backends.served.lock().unwrap() = vec![0; urls.len()];
        *self.backends.urls.lock().unwrap() = urls;
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(self.backends.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
    }

    /// Waits `delay` before forwarding each request.
    pub fn set_delay(&self, delay: std::time::Duration) {
        *self.backends.delay.lock().unwrap() = delay;
    }

    /// Requests each backend answered.
    pub fn served(&self) -> Vec<usize> {
        self.backends.served.lock().unwrap().clone()
    }
}

async fn forward(State(backends): State<Arc<Backends>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body): Result<Bytes, _> = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let delay = *backends.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    let urls = backends.urls.lock().unwrap().clone();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let first = backends.next.fetch_add(1, Ordering::Relaxed);
    for attempt in 0..urls.len() {
        let index = (first + attempt) % urls.len();
        let mut outbound = backends
            .http
            .request(parts.method.clone(), format!("{}{path}", urls[index]))
            .body(body.clone());
        for (name, value) in &parts.headers {
            if name != "host" && name != "content-length" {
                outbound = outbound.header(name, value);
            }
        }
        // A replica that is gone refuses or resets the connection: try the next one.
        let Ok(answer) = outbound.send().await else {
            continue;
        };
        let status = answer.status();
        let headers = answer.headers().clone();
        let Ok(bytes) = answer.bytes().await else {
            continue;
        };
        backends.served.lock().unwrap()[index] += 1;
        let mut response = Response::new(Body::from(bytes));
        *response.status_mut() = status;
        for (name, value) in &headers {
            if name != "content-length" && name != "transfer-encoding" {
                response.headers_mut().insert(name, value.clone());
            }
        }
        return response;
    }
    StatusCode::BAD_GATEWAY.into_response()
}
