//! Frontdesk's dialogue engine.
//!
//! The engine is a pure function of its inputs: the same flows, session state, input and `now`
//! give the same outputs. It never reads the clock, the disk or the network; the application
//! hands it file contents at load time and the current business-local time on every turn.

pub mod business;
pub mod diagram;
pub mod extract;
pub mod flow;
pub mod interpreter;
pub mod knowledge;
pub mod load;
pub mod runtime_lines;
pub mod script;
pub mod session;
pub mod speak;
pub mod templates;
pub mod tool;
pub mod triggers;
pub mod understand;

pub use flow::{LoadError, LoadErrors, SourceFile};
pub use interpreter::StepError;
pub use load::{Engine, Sources};
pub use runtime_lines::RuntimeLine;
pub use session::{CallInfo, Input, Output, Session};
pub use tool::ToolSpec;
