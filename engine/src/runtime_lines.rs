//! What the agent says when something around the conversation fails (the call was lost, a
//! service is down, the engine stopped, a transfer went unanswered). These are prompts like any
//! other (`prompts/failure/*.j2`), rendered with the business and its persona, and required at
//! load: a business cannot forget to say them.

use crate::interpreter::StepError;
use crate::load::{Engine, template_message};

/// A line the runtime says outside any flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeLine {
    /// A webhook for a call the server no longer knows; a person takes over.
    LostCall,
    /// Speech or another service failed mid-call; a person takes over.
    ServiceTrouble,
    /// The engine could not go on; a person takes over.
    InternalError,
    /// A transfer nobody answered; the caller will be called back.
    TransferUnanswered,
}

impl RuntimeLine {
    /// Every runtime line, for checks at load.
    pub const ALL: [RuntimeLine; 4] = [
        RuntimeLine::LostCall,
        RuntimeLine::ServiceTrouble,
        RuntimeLine::InternalError,
        RuntimeLine::TransferUnanswered,
    ];

    /// The prompt it is read from: `prompts/{name}.j2`.
    pub fn prompt(self) -> &'static str {
        match self {
            RuntimeLine::LostCall => "failure/lost_call",
            RuntimeLine::ServiceTrouble => "failure/service_trouble",
            RuntimeLine::InternalError => "failure/internal_error",
            RuntimeLine::TransferUnanswered => "failure/transfer_unanswered",
        }
    }
}

impl Engine {
    /// The words of a runtime line for this business.
    pub fn runtime_line(&self, line: RuntimeLine) -> Result<String, StepError> {
        let name = line.prompt();
        let ctx = minijinja::context! { business => self.business_context.clone() };
        self.templates
            .render_text(name, &ctx)
            .map(|text| text.trim().to_string())
            .map_err(|e| StepError::Template {
                name: name.to_string(),
                message: template_message(&e),
            })
    }
}
