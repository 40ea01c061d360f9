//! The single integration-test crate (one binary links faster than many).

mod storage;
mod support;
