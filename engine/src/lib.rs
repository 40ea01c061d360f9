//! Frontdesk's dialogue engine.
//!
//! The engine is a pure function of its inputs: the same flows, session state, input and `now`
//! give the same outputs. It never reads the clock, the disk or the network; the application
//! hands it file contents at load time and the current business-local time on every turn.

pub mod business;
pub mod extract;
pub mod knowledge;
pub mod speak;
