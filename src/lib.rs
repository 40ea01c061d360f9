//! The Frontdesk application: configuration, storage, scheduling, the CLI and the runtime that
//! carries calls to the engine.

pub mod scheduling;
pub mod storage;
