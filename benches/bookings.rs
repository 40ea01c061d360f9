//! The booking path on its own: `Storage::book` from 32 concurrent callers, each booking a
//! free start (different visits, the same write lock), on a fresh SQLite file, or on
//! PostgreSQL when `FRONTDESK_BENCH_DATABASE` names one. Prints bookings per second and the
//! p50/p99/max of one booking. `cargo bench --bench bookings`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk::storage::{NewAppointment, Storage};
use frontdesk_engine::business::Business;
use jiff::civil::{DateTime, date};

const BOOKINGS: usize = 20_000;
const CONCURRENCY: usize = 32;

fn business() -> Business {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/business.yaml");
    let text = std::fs::read_to_string(path).expect("config/business.yaml");
    Business::from_yaml(&text).expect("the default business")
}

/// The `n`th free place: every location, every hour 8..18 of every day from June 2026 on,
/// each start booked up to its capacity.
fn place(business: &Business, n: usize) -> (String, DateTime) {
    let capacity = business.capacity_per_start as usize;
    let locations = business.locations.len();
    let start_index = n / (capacity * locations);
    let location = &business.locations[(n / capacity) % locations].code;
    let day = date(2026, 6, 1)
        .checked_add(jiff::Span::new().days((start_index / 10) as i64))
        .expect("a day");
    (
        location.clone(),
        day.at(8 + (start_index % 10) as i8, 0, 0, 0),
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

async fn run(store: Arc<dyn Storage>, business: Arc<Business>, label: &str) {
    let began = Instant::now();
    let mut workers = Vec::new();
    for w in 0..CONCURRENCY {
        let (store, business) = (store.clone(), business.clone());
        workers.push(tokio::spawn(async move {
            let mut took = Vec::new();
            let mut n = w;
            while n < BOOKINGS {
                let (location, start) = place(&business, n);
                let new = NewAppointment {
                    call_id: format!("CA-bench-{n}"),
                    location,
                    start,
                    name: "Bench Caller".into(),
                    phone: format!("+1214{:07}", n),
                    issue: "no heat".into(),
                    minutes: None,
                };
                let one = Instant::now();
                store.book(&new).await.expect("a free place books");
                took.push(one.elapsed());
                n += CONCURRENCY;
            }
            took
        }));
    }
    let mut all = Vec::with_capacity(BOOKINGS);
    for worker in workers {
        all.extend(worker.await.expect("a worker"));
    }
    let elapsed = began.elapsed();
    all.sort();
    println!(
        "{label}: {BOOKINGS} bookings from {CONCURRENCY} callers in {:.2} s: {:.0} bookings/s; \
         one booking p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        elapsed.as_secs_f64(),
        BOOKINGS as f64 / elapsed.as_secs_f64(),
        percentile(&all, 0.50).as_secs_f64() * 1000.0,
        percentile(&all, 0.99).as_secs_f64() * 1000.0,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let business = Arc::new(business());
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = match std::env::var("FRONTDESK_BENCH_DATABASE") {
            Ok(url) => url,
            Err(_) => format!("sqlite://{}/bench.db", dir.path().display()),
        };
        let store = frontdesk::storage::open(&url).await.expect("the database");
        store.sync_business(&business).await.expect("the business");
        run(
            store.clone(),
            business,
            url.split(':').next().unwrap_or("db"),
        )
        .await;
        store.close().await;
    });
}
