//! Telephony wire formats, without runtime policy: what Twilio and a phone line send and expect.
//!
//! - [`twiml`]: TwiML rendered and parsed;
//! - [`signature`]: `X-Twilio-Signature` computed and checked;
//! - [`media_stream`]: Media Streams frames in both directions;
//! - [`audio`]: μ-law, resampling to 8 kHz, and espeak-ng synthesis.
//!
//! The application serves calls with these; the test kit's fake phone speaks them back.

pub mod audio;
pub mod media_stream;
pub mod signature;
pub mod twiml;
