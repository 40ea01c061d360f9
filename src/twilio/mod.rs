//! Twilio's REST API, through a thin client of our own (there is no maintained Twilio SDK for
//! Rust): the call update used during Media Streams. The wire formats (signatures, TwiML, Media
//! Streams frames) are in `frontdesk-telephony`.

pub mod rest;
