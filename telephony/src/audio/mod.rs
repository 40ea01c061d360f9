//! Phone audio: the μ-law codec, resampling to 8 kHz, and the local espeak-ng voice.

pub mod espeak;
pub mod mulaw;
pub mod resample;
