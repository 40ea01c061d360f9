//! Faithful local fakes of the services Frontdesk talks to, built from `docs/protocols.md`: a
//! Twilio that places calls (signed webhooks or a real-time Media Stream), Deepgram
//! speech-to-text and text-to-speech, Twilio's REST API, and an OpenAI-compatible model server.
//! The app's tests and `frontdesk-phone` use them; they speak the real wire protocols on loopback, so
//! nothing of ours is mocked.

pub mod fake_deepgram;
pub mod fake_openai;
pub mod fake_twilio_rest;
mod http_server;
pub mod phone;
