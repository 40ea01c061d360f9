//! The tools flows can call, and their execution against storage and the scheduler.

use frontdesk_engine::ToolSpec;

/// Every tool a flow may name, with its arguments. The flow validator checks against this.
pub fn catalog() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new("check_availability", &["location", "when"], &["exclude"]),
        ToolSpec::new(
            "book_appointment",
            &["location", "start", "name", "phone"],
            &["issue"],
        ),
        ToolSpec::new("find_appointment", &[], &["phone", "name", "location"]),
        ToolSpec::new("reschedule_appointment", &["appointment_id", "start"], &[]),
        ToolSpec::new("cancel_appointment", &["appointment_id"], &[]),
    ]
}
