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
    /// The call's audio was lost for a moment (its media stream's server went away) and the
    /// conversation goes on where it was.
    Reconnected,
}

impl RuntimeLine {
    /// Every runtime line, for checks at load.
    pub const ALL: [RuntimeLine; 5] = [
        RuntimeLine::LostCall,
        RuntimeLine::ServiceTrouble,
        RuntimeLine::InternalError,
        RuntimeLine::TransferUnanswered,
        RuntimeLine::Reconnected,
    ];

    /// The prompt it is read from: `prompts/{name}.j2`.
    pub fn prompt(self) -> &'static str {
        match self {
            RuntimeLine::LostCall => "failure/lost_call",
            RuntimeLine::ServiceTrouble => "failure/service_trouble",
            RuntimeLine::InternalError => "failure/internal_error",
            RuntimeLine::TransferUnanswered => "failure/transfer_unanswered",
            RuntimeLine::Reconnected => "failure/reconnected",
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

impl Engine {
    /// A message sent outside the conversation (a confirmation text, an alert):
    /// `prompts/{name}.j2` rendered with the business and `vars` (an object whose keys become
    /// template variables), whitespace collapsed. Fails for a prompt that is not there.
    pub fn render_message(
        &self,
        name: &str,
        vars: &serde_json::Value,
    ) -> Result<String, StepError> {
        let template_error = |message: String| StepError::Template {
            name: name.to_string(),
            message,
        };
        if !self.prompt_names().iter().any(|n| n == name) {
            return Err(template_error(format!("no prompt `prompts/{name}.j2`")));
        }
        let mut ctx = match vars {
            serde_json::Value::Object(map) => map.clone(),
            serde_json::Value::Null => serde_json::Map::new(),
            other => {
                return Err(template_error(format!(
                    "variables must be an object, not {other}"
                )));
            }
        };
        let business = serde_json::to_value(&self.business_context).unwrap_or_default();
        ctx.insert("business".into(), business);
        let ctx = minijinja::Value::from(minijinja::value::Serde(serde_json::Value::Object(ctx)));
        self.templates
            .render_text(name, &ctx)
            .map_err(|e| template_error(template_message(&e)))
    }
}
