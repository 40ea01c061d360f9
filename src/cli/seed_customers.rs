//! `frontdesk seed --customers N`: realistic customers, with vehicles from the business's
//! catalogue when it has one, written in one transaction (10,000 take about a second on SQLite).
//!
//! The same N gives the same customers every time (a fixed-seed generator), so seeding twice
//! changes nothing. Numbers are fictional 555 numbers in the area code of the business's own
//! line.

use frontdesk_engine::business::Business;

use crate::storage::{NewCustomer, VehicleRecord};

const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Jose",
    "Ashley",
    "Kevin",
    "Emily",
    "Brian",
    "Kimberly",
    "George",
    "Donna",
    "Wei",
    "Michelle",
    "Ahmed",
    "Priya",
    "Luis",
    "Maria",
    "Andre",
    "Aisha",
    "Tyler",
    "Hannah",
    "Diego",
    "Grace",
];

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Chen",
    "Patel",
    "Kim",
    "Okafor",
    "Schmidt",
];

/// A small fixed-seed generator (SplitMix64): reproducible and dependency-free.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or_default()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        items.get(self.below(items.len()))
    }
}

/// The three digits after +1 in the business's main (or human) line; 555 when there is none.
fn area_code(business: &Business) -> String {
    let line = business
        .phones
        .main
        .as_deref()
        .unwrap_or(&business.phones.human);
    line.strip_prefix("+1")
        .and_then(|rest| rest.get(..3))
        .filter(|code| code.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or("555")
        .to_string()
}

/// `count` customers: a name, a 555 number (`+1 AREA 555 0000` upward, then 556 ...), and for
/// a business with a vehicle catalogue one to three vehicles of model years 2005..=2025.
pub fn customers(business: &Business, count: u32) -> Vec<NewCustomer> {
    let mut dice = Dice(u64::from(count));
    let area = area_code(business);
    (0..count)
        .map(|i| {
            let first = dice.pick(FIRST_NAMES).copied().unwrap_or("Pat");
            let last = dice.pick(LAST_NAMES).copied().unwrap_or("Doe");
            let exchange = 555 + i / 10_000;
            let line = i % 10_000;
            let cars = if business.vehicles.is_empty() {
                0
            } else {
                // Most have one car, some two, a few three.
                [1, 1, 1, 1, 2, 2, 3][dice.below(7)]
            };
            let mut vehicles: Vec<VehicleRecord> = Vec::new();
            for _ in 0..cars {
                let Some(make) = dice.pick(&business.vehicles) else {
                    break;
                };
                let model = dice.pick(&make.models).map(|m| m.name().to_string());
                let year = 2005 + i64::try_from(dice.below(21)).unwrap_or_default();
                let vehicle = VehicleRecord {
                    year: Some(year),
                    make: make.make.clone(),
                    model,
                };
                if !vehicles.contains(&vehicle) {
                    vehicles.push(vehicle);
                }
            }
            NewCustomer {
                phone: format!("+1{area}{exchange}{line:04}"),
                name: format!("{first} {last}"),
                vehicles,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn business(yaml_tail: &str) -> Business {
        let text = format!(
            r#"
name: Test Shop
time_zone: America/Phoenix
locations: [{{ code: A, name: Alpha }}]
hours: [{{ day: monday, open: "08:00", close: "17:00" }}]
visit_minutes: 30
capacity_per_start: 1
phones: {{ human: "+13035550100", emergency: "+13035550911" }}
{yaml_tail}
"#
        );
        serde_saphyr::from_str(&text).unwrap()
    }

    #[test]
    fn customers_are_reproducible_distinct_and_drive_catalogue_cars() {
        let shop = business("vehicles: [{ make: Mazda, models: [Miata, CX-5] }]");
        let first = customers(&shop, 12_000);
        assert_eq!(
            first,
            customers(&shop, 12_000),
            "the same N, the same customers"
        );
        let phones: std::collections::BTreeSet<_> = first.iter().map(|c| &c.phone).collect();
        assert_eq!(phones.len(), 12_000, "every number is different");
        assert!(first.iter().all(|c| c.phone.starts_with("+1303")));
        assert!(first.iter().all(|c| !c.vehicles.is_empty()));
        assert!(
            first
                .iter()
                .flat_map(|c| &c.vehicles)
                .all(|v| v.make == "Mazda" && matches!(v.model.as_deref(), Some("Miata" | "CX-5")))
        );
    }

    #[test]
    fn a_business_without_a_catalogue_gets_customers_without_vehicles() {
        let plain = business("");
        assert!(customers(&plain, 50).iter().all(|c| c.vehicles.is_empty()));
    }
}
