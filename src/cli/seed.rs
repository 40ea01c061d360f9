//! `frontdesk seed`: demo appointments, so reschedule and cancel calls have something to find;
//! with `--customers N`, N realistic customers (with vehicles for a business that takes them).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use jiff::ToSpan;
use jiff::civil::{Date, Time};

use crate::clock::business_now;
use crate::project::{ProjectPaths, read_business};
use crate::scheduling::open_starts;
use crate::storage::{NewAppointment, StorageError};

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Instead of the demo visits, write this many customers (with one to three vehicles each
    /// from the business's catalogue, if it has one). The same N gives the same customers.
    #[arg(long)]
    pub customers: Option<u32>,
}

/// (name, phone, location, business days ahead, hour, issue)
const DEMO: &[(&str, &str, &str, i32, i8, &str)] = &[
    (
        "Maria Garcia",
        "+12145550188",
        "FTW",
        2,
        10,
        "furnace tune-up",
    ),
    ("James Lee", "+12145550142", "DAL", 1, 14, "AC not cooling"),
    (
        "Priya Patel",
        "+18175550123",
        "ARL",
        3,
        9,
        "thermostat replacement",
    ),
    (
        "Tom Becker",
        "+14695550177",
        "DAL",
        2,
        11,
        "strange noise from the furnace",
    ),
];

pub fn run(project: &Path, database: &str, args: SeedArgs) -> Result<ExitCode> {
    let business = read_business(&ProjectPaths::at_root(project).business)?;
    if let Some(count) = args.customers {
        return seed_customers(database, &business, count);
    }
    let now = business_now(&business)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = super::runtime::storage_for(database, &business).await?;
        let (mut booked, mut already, mut skipped) = (0, 0, 0);
        for (i, (name, phone, location, days, hour, issue)) in DEMO.iter().enumerate() {
            let Some(date) = nth_open_day(&business, now.date(), *days) else {
                continue;
            };
            let start = date.to_datetime(Time::new(*hour, 0, 0, 0)?);
            if !open_starts(&business, date).contains(&start) {
                continue;
            }
            let new = NewAppointment {
                call_id: format!("seed-{}", i + 1),
                location: location.to_string(),
                start,
                name: name.to_string(),
                phone: phone.to_string(),
                issue: issue.to_string(),
                minutes: None,
            };
            // Seeding twice adds nothing: each demo visit is booked under its own call id.
            if let Some(a) = store.appointments_for_call(&new.call_id).await?.first() {
                println!(
                    "already there: {} at {} on {} ({})",
                    a.name, a.location, a.start, a.phone
                );
                already += 1;
                continue;
            }
            match store.book(&new).await {
                Ok(a) => {
                    println!(
                        "booked: {} at {} on {} ({})",
                        a.name, a.location, a.start, a.phone
                    );
                    booked += 1;
                }
                Err(StorageError::Full { .. }) => {
                    println!("skipped: {name}, that start is full");
                    skipped += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
        println!("seed: {booked} booked, {already} already there, {skipped} skipped");
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

fn seed_customers(
    database: &str,
    business: &frontdesk_engine::business::Business,
    count: u32,
) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = super::runtime::storage_for(database, business).await?;
        let began = std::time::Instant::now();
        let customers = super::seed_customers::customers(business, count);
        let vehicles: usize = customers.iter().map(|c| c.vehicles.len()).sum();
        let written = store.seed_customers(&customers).await;
        store.close().await;
        let written = written?;
        println!(
            "seed: {written} customers with {vehicles} vehicles in {:.2} s",
            began.elapsed().as_secs_f64()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// The `n`th open day after `from` (1 = the next open day).
fn nth_open_day(
    business: &frontdesk_engine::business::Business,
    from: Date,
    n: i32,
) -> Option<Date> {
    let mut date = from;
    let mut found = 0;
    for _ in 0..31 {
        date = date.checked_add(1.day()).ok()?;
        if business.hours_on(date).is_some() {
            found += 1;
            if found == n {
                return Some(date);
            }
        }
    }
    None
}
