#![deny(missing_docs)]
//! Frontdesk's dialogue engine.
//!
//! The engine is a pure function of its inputs: the same flows, session state, input and `now`
//! give the same outputs. It never reads the clock, the disk or the network; the application
//! hands it file contents at load time and the current business-local time on every turn.

pub mod business;
mod diagram;
pub mod extract;
mod flow;
mod interpreter;
mod knowledge;
mod load;
mod runtime_lines;
pub mod script;
mod session;
mod speak;
mod templates;
mod tool;
mod triggers;
mod understand;

pub use diagram::{Edge, edges, mermaid};
pub use flow::model::{FlowDef, GlobalsDef, Outcome, SlotType};
pub use flow::parse::parse_yaml;
pub use flow::{LoadError, LoadErrors, SourceFile};
pub use interpreter::Opening;
pub use interpreter::StepError;
pub use knowledge::{KnowledgeBase, KnowledgeEntry};
pub use load::{Engine, Sources};
pub use runtime_lines::RuntimeLine;
pub use session::{
    CallInfo, Input, KnowledgeAnswer, ModelRequest, ModelSlot, Output, Passage, Session,
};
pub use tool::ToolSpec;
