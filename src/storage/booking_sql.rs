//! The statements that book a visit only if it can go ahead, written once for any placement of
//! their values among a statement's parameters: one booking's (`$1`..`$7`), or the `n`th of a
//! group sent in one round trip (SQLite's group commit).

use std::sync::LazyLock;

/// Values of a booking per statement, before the group's others.
pub(super) const VALUES_PER_BOOKING: usize = 7;

/// Where each value of one booking sits among the parameters.
#[derive(Debug, Clone, Copy)]
pub(super) struct BookingParams {
    pub phone: usize,
    pub name: usize,
    pub call_id: usize,
    pub location: usize,
    pub start: usize,
    pub name_key: usize,
    pub issue: usize,
}

impl BookingParams {
    /// The `n`th booking's (from 0): `$1`..`$7` for the first, `$8`..`$14` for the second, ...
    pub(super) fn nth(n: usize) -> BookingParams {
        let base = n * VALUES_PER_BOOKING;
        BookingParams {
            phone: base + 1,
            name: base + 2,
            call_id: base + 3,
            location: base + 4,
            start: base + 5,
            name_key: base + 6,
            issue: base + 7,
        }
    }
}

/// The booking can go ahead: its call has not booked, the location is active with room at the
/// start, and the caller is not booked there then already.
fn bookable(p: &BookingParams) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM appointments WHERE created_by_call = ${call}) \
         AND (SELECT COUNT(*) FROM appointments WHERE location = ${location} \
            AND start_at = ${start} AND status = 'booked') \
            < (SELECT capacity FROM locations WHERE code = ${location} AND active) \
         AND NOT EXISTS (SELECT 1 FROM appointments WHERE phone = ${phone} \
            AND start_at = ${start} AND location = ${location} AND status = 'booked')",
        call = p.call_id,
        location = p.location,
        start = p.start,
        phone = p.phone,
    )
}

/// Writes the booking's customer, only if the booking can go ahead.
pub(super) fn upsert_customer_if_bookable(p: &BookingParams) -> String {
    format!(
        "INSERT INTO customers (phone, name) SELECT ${phone}, ${name} WHERE {bookable} \
         ON CONFLICT (phone) DO UPDATE SET name = excluded.name",
        phone = p.phone,
        name = p.name,
        bookable = bookable(p),
    )
}

/// Inserts the visit, only if the booking can go ahead, returning it as an
/// [`AppointmentRow`](super::sql::AppointmentRow); its customer must be written first.
pub(super) fn insert_appointment_if_bookable(p: &BookingParams) -> String {
    format!(
        "INSERT INTO appointments (location, start_at, customer_id, name, name_key, phone, \
         issue, status, created_by_call) SELECT ${location}, ${start}, \
         (SELECT id FROM customers WHERE phone = ${phone}), ${name}, ${name_key}, ${phone}, \
         ${issue}, 'booked', ${call} WHERE {bookable} RETURNING {columns}",
        location = p.location,
        start = p.start,
        phone = p.phone,
        name = p.name,
        name_key = p.name_key,
        issue = p.issue,
        call = p.call_id,
        bookable = bookable(p),
        columns = appt_cols!(),
    )
}

/// One booking's customer, written only if the booking can go ahead (`$1` phone, `$2` name,
/// `$3` call, `$4` location, `$5` start); returns the customer's id, or no row.
pub(super) static UPSERT_CUSTOMER_IF_BOOKABLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} RETURNING id",
        upsert_customer_if_bookable(&BookingParams::nth(0))
    )
});

/// `count` bookings in one round trip: for each, its customer and its visit, each written only
/// if it can go ahead. The visits booked come back as rows; bind each booking's values in
/// [`BookingParams`] order.
pub(super) fn book_many(count: usize) -> String {
    let mut statements = String::new();
    for n in 0..count {
        let p = BookingParams::nth(n);
        statements.push_str(&upsert_customer_if_bookable(&p));
        statements.push_str(";\n");
        statements.push_str(&insert_appointment_if_bookable(&p));
        statements.push_str(";\n");
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_booking_of_a_group_has_the_next_seven_parameters() {
        let second = BookingParams::nth(1);
        assert_eq!((second.phone, second.issue), (8, 14));
        let sql = book_many(2);
        assert_eq!(sql.matches("INSERT INTO").count(), 4);
        assert!(sql.contains("created_by_call = $10"), "{sql}");
        assert!(!sql.contains("$15"), "{sql}");
    }
}
