//! The example businesses through the real binary on a real SQLite file: in a business with a
//! vehicle catalogue, customers written by `seed --customers` are greeted by name and asked
//! about their vehicle, and a new vehicle is remembered for the next call. The business and
//! what the caller says come from its configuration, so no business is named here.

use std::path::Path;
use std::process::Output;

use frontdesk_engine::business::Business;

use crate::support::binary::{self, printed as text};

fn frontdesk(project: &str, db: &str, args: &[&str], stdin: &str) -> Output {
    let mut all = vec!["--project", project, "--database", db];
    all.extend_from_slice(args);
    binary::run(&all, stdin)
}

/// The example business folder with a vehicle catalogue and services, and its business.
fn business_with_vehicles() -> (String, Business) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root.join("examples")).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(text) = std::fs::read_to_string(dir.join("config/business.yaml")) else {
            continue;
        };
        let business = Business::from_yaml(&text).unwrap();
        if !business.vehicles.is_empty() && !business.services.is_empty() {
            let relative = dir
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .to_string();
            found.push((relative, business));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
        .into_iter()
        .next()
        .expect("an example business with vehicles and services")
}

#[test]
fn seeded_customers_are_greeted_with_their_vehicle_and_a_new_one_is_remembered() {
    let (project, business) = business_with_vehicles();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("vehicles.db").display());
    let seeded = frontdesk(&project, &db, &["seed", "--customers", "500"], "");
    let out = text(&seeded);
    assert!(seeded.status.success(), "{out}");
    assert!(out.contains("seed: 500 customers with "), "{out}");
    // The same N again writes the same customers.
    let again = frontdesk(&project, &db, &["seed", "--customers", "500"], "");
    assert!(
        text(&again).contains("seed: 500 customers with "),
        "{}",
        text(&again)
    );

    // The first seeded customer: a 555 number in the area code of the business's line.
    let main = business
        .phones
        .main
        .clone()
        .unwrap_or(business.phones.human.clone());
    let caller = format!("+1{}5550000", &main[2..5]);
    let chat = |lines: &str| {
        let out = frontdesk(
            &project,
            &db,
            &["chat", "--now", "2026-06-01T09:12", "--caller", &caller],
            lines,
        );
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
    };
    // A service by its name, and a car from the catalogue the seeding does not give out (its
    // model years stop at 2025).
    let service = &business.services[0].name;
    let make = business.vehicles.last().unwrap();
    let model = make.models.last().unwrap().name();
    let first = chat(&format!(
        "i need a {service}\nno its a different car\ntwenty twenty six {} {}\nwednesday at ten\nyes\n",
        make.make.to_lowercase(),
        model.to_lowercase()
    ));
    assert!(first.contains("agent: Hi "), "{first}");
    assert!(first.contains("Is this for the 20"), "{first}");
    assert!(first.contains("(call ended: booked;"), "{first}");
    assert!(!first.contains("first and last name"), "{first}");

    // The next call from that number is asked about the car it just brought.
    let second = chat(&format!("i need a {service}\nyes\nthursday at ten\nyes\n"));
    let on_file = format!("Is this for the 2026 {} {model}?", make.make);
    assert!(second.contains(&on_file), "{on_file}: {second}");
    assert!(second.contains("(call ended: booked;"), "{second}");
}
