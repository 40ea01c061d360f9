//! `find_appointment`: which of the caller's upcoming visits they mean, and whether they have
//! shown it is theirs before anything about it is read out or changed.
//!
//! Identity is one of: the caller ID is the visit's phone number; the caller gave the phone
//! number on the visit or its last four digits; or, before hearing anything, the caller named
//! the visit's day or location. A phone number given that is not the visit's spoils the last
//! one: the caller is then not taken at their word.

use frontdesk_engine::extract::reference::{
    VisitFacts, VisitReference, confirms_phone, fit, pick_visits,
};
use serde_json::{Value, json};

use crate::storage::Appointment;

/// What the flow passed to `find_appointment`, besides the name or phone to look under.
#[derive(Debug, Default)]
pub struct LookupRequest {
    /// What the caller said about the visit.
    pub reference: Option<VisitReference>,
    /// The visit's location, as the caller named it.
    pub location: Option<String>,
    /// The phone number on the visit (or its last four digits), as the caller said it.
    pub visit_phone: Option<String>,
    /// The caller ID.
    pub caller: Option<String>,
    /// The visits were looked up under the caller ID itself.
    pub by_caller_id: bool,
}

/// How the caller showed a visit is theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proof {
    CallerId,
    Phone,
    Details,
}

impl Proof {
    fn as_str(self) -> &'static str {
        match self {
            Proof::CallerId => "caller_id",
            Proof::Phone => "phone",
            Proof::Details => "details",
        }
    }
}

/// The tool result for the visits found under a name or phone.
///
/// `found`: one visit is singled out (`appointment`). `ambiguous`: several fit what was said;
/// `choices` names them only when the caller is the visits' own phone. `verified` / `proof`:
/// whether and how the caller showed the found visit is theirs. `phone_mismatch`: a phone
/// number was given and it is not the found visit's (or, when several fit, none of theirs).
pub fn find(
    request: &LookupRequest,
    visits: &[Appointment],
    describe: impl Fn(&Appointment) -> Value,
) -> Value {
    let mut reference = request.reference.clone().unwrap_or_default();
    if let Some(location) = &request.location
        && !reference
            .locations
            .iter()
            .any(|l| l.eq_ignore_ascii_case(location))
    {
        reference.locations = vec![location.clone()];
    }
    let facts: Vec<VisitFacts> = visits
        .iter()
        .map(|a| VisitFacts {
            start: a.start,
            location: &a.location,
            issue: &a.issue,
        })
        .collect();
    let mut picked = pick_visits(Some(&reference), &facts);
    // The phone number on the visit, when given, singles it out among visits under one name.
    if picked.len() > 1
        && let Some(said) = &request.visit_phone
    {
        let by_phone: Vec<usize> = picked
            .iter()
            .copied()
            .filter(|&i| confirms_phone(said, &visits[i].phone))
            .collect();
        if by_phone.len() == 1 {
            picked = by_phone;
        }
    }
    let count = visits.len();
    let proof = |a: &Appointment, i: usize| -> (Option<Proof>, bool) {
        let caller_is_owner = request.by_caller_id
            || request
                .caller
                .as_deref()
                .is_some_and(|c| same_number(c, &a.phone));
        let phone_given = request.visit_phone.as_deref();
        let phone_mismatch = phone_given.is_some_and(|p| !confirms_phone(p, &a.phone));
        let proof = if caller_is_owner {
            Some(Proof::CallerId)
        } else if phone_given.is_some() && !phone_mismatch {
            Some(Proof::Phone)
        } else if !phone_mismatch && fit(&reference, &facts[i]).knows_day_or_place {
            Some(Proof::Details)
        } else {
            None
        };
        (proof, phone_mismatch)
    };
    // Naming visits is safe only to the phone they were booked from.
    let name_them = |which: &[usize]| -> Vec<Value> {
        if !request.by_caller_id {
            return Vec::new();
        }
        which
            .iter()
            .map(|&i| {
                let mut choice = describe(&visits[i]);
                if let Some(obj) = choice.as_object_mut() {
                    let weekday = visits[i].start.date().strftime("%A").to_string();
                    obj.insert("weekday".into(), json!(weekday));
                }
                choice
            })
            .collect()
    };
    let mut in_order: Vec<usize> = (0..visits.len()).collect();
    in_order.sort_by_key(|&i| visits[i].start);
    match picked.as_slice() {
        [i] => {
            let a = &visits[*i];
            let (proof, phone_mismatch) = proof(a, *i);
            json!({
                "found": true, "ambiguous": false, "count": count,
                "verified": proof.is_some(),
                "proof": proof.map(Proof::as_str),
                "phone_mismatch": phone_mismatch,
                "appointment": describe(a),
                // If this is not the one, the caller picks from all of theirs.
                "choices": name_them(&in_order),
            })
        }
        [] => json!({
            "found": false, "ambiguous": false, "count": count, "verified": false,
            "proof": null, "phone_mismatch": false, "choices": [],
        }),
        several => {
            let phone_mismatch = request.visit_phone.as_deref().is_some_and(|p| {
                several
                    .iter()
                    .all(|&i| !confirms_phone(p, &visits[i].phone))
            });
            let choices = name_them(several);
            json!({
                "found": false, "ambiguous": true, "count": count, "verified": false,
                "proof": null, "phone_mismatch": phone_mismatch, "choices": choices,
            })
        }
    }
}

/// Two phone numbers are the same when their last ten digits are.
fn same_number(a: &str, b: &str) -> bool {
    let digits = |s: &str| -> String { s.chars().filter(char::is_ascii_digit).collect() };
    let (a, b) = (digits(a), digits(b));
    let tail = |s: &str| s[s.len().saturating_sub(10)..].to_string();
    a.len() >= 7 && tail(&a) == tail(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::AppointmentStatus;

    fn visit(id: i64, start: &str, location: &str, phone: &str, issue: &str) -> Appointment {
        Appointment {
            id,
            location: location.into(),
            start: start.parse().unwrap(),
            name: "Pat Lee".into(),
            phone: phone.into(),
            issue: issue.into(),
            status: AppointmentStatus::Booked,
            created_by_call: format!("c{id}"),
            updated_by_call: None,
        }
    }

    fn id(a: &Appointment) -> Value {
        json!(a.id)
    }

    fn reference(json: Value) -> Option<VisitReference> {
        Some(serde_json::from_value(json).unwrap())
    }

    #[test]
    fn the_caller_id_proves_identity() {
        let visits = [visit(1, "2026-06-03T10:00", "DAL", "+12145550101", "ac")];
        let found = find(
            &LookupRequest {
                caller: Some("+12145550101".into()),
                by_caller_id: true,
                ..LookupRequest::default()
            },
            &visits,
            id,
        );
        assert_eq!(found["found"], true);
        assert_eq!(found["proof"], "caller_id");
    }

    #[test]
    fn another_phone_must_name_the_place_or_the_number() {
        let visits = [visit(1, "2026-06-03T10:00", "DAL", "+12145550101", "ac")];
        let stranger = LookupRequest {
            caller: Some("+14695550199".into()),
            ..LookupRequest::default()
        };
        let found = find(&stranger, &visits, id);
        assert_eq!(
            (found["found"].clone(), found["verified"].clone()),
            (json!(true), json!(false))
        );
        let wrong_place = LookupRequest {
            location: Some("FTW".into()),
            ..stranger
        };
        assert_eq!(find(&wrong_place, &visits, id)["verified"], false);
        let right_place = LookupRequest {
            location: Some("DAL".into()),
            caller: Some("+14695550199".into()),
            ..LookupRequest::default()
        };
        assert_eq!(find(&right_place, &visits, id)["proof"], "details");
        let last_four = LookupRequest {
            visit_phone: Some("zero one zero one".into()),
            ..LookupRequest::default()
        };
        assert_eq!(find(&last_four, &visits, id)["proof"], "phone");
        // A wrong number spoils what the caller otherwise seemed to know.
        let wrong_number = LookupRequest {
            location: Some("DAL".into()),
            visit_phone: Some("two two two two".into()),
            ..LookupRequest::default()
        };
        let found = find(&wrong_number, &visits, id);
        assert_eq!(found["verified"], false);
        assert_eq!(found["phone_mismatch"], true);
    }

    #[test]
    fn several_visits_are_named_only_to_their_own_phone() {
        let visits = [
            visit(1, "2026-06-03T10:00", "DAL", "+12145550101", "ac tune-up"),
            visit(
                2,
                "2026-06-05T13:00",
                "FTW",
                "+12145550101",
                "duct cleaning",
            ),
        ];
        let own = LookupRequest {
            by_caller_id: true,
            ..LookupRequest::default()
        };
        let found = find(&own, &visits, id);
        assert_eq!(found["ambiguous"], true);
        assert_eq!(found["choices"].as_array().map(Vec::len), Some(2));
        let stranger = LookupRequest::default();
        assert_eq!(find(&stranger, &visits, id)["choices"], json!([]));
        let ducts = LookupRequest {
            reference: reference(json!({ "words": ["ducts"] })),
            by_caller_id: true,
            ..LookupRequest::default()
        };
        assert_eq!(find(&ducts, &visits, id)["appointment"], 2);
    }
}
