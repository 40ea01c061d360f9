//! The Frontdesk application: configuration, storage, scheduling, the CLI and the runtime that
//! carries calls to the engine.

pub mod calendar;
pub mod call;
pub mod call_event;
pub mod call_script;
pub mod caller_id;
pub mod cli;
pub mod clock;
pub mod dashboard;
pub mod llm;
pub mod logging;
pub mod outbox;
pub mod outcome_counts;
pub mod project;
pub mod recorder;
pub mod scheduling;
pub mod server;
pub mod simulate;
pub mod speech;
pub mod storage;
pub mod telemetry;
pub mod tools;
pub mod twilio;
