//! The single integration-test crate (one binary links faster than many).

mod calendar;
mod cli;
mod deadlines;
mod flows_check;
mod llm_answers;
mod llm_fallback;
mod llm_real_server;
mod outage;
mod outbox;
mod owner_digest;
mod recording;
mod reminder_calls;
mod schema;
mod serve_process;
mod storage;
mod support;
mod texts;
mod tool_failures;
mod transcripts;
mod twilio_gather;
mod twilio_stream;
mod understanding;
mod unwritable;
mod webhooks;
