//! Twilio's wire formats, with a thin client of our own (there is no maintained Twilio SDK for
//! Rust): request signatures, TwiML, and the REST call update used during Media Streams.

pub mod rest;
pub mod signature;
pub mod twiml;
