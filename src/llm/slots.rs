//! Slot extraction by a language model, for answers the rules could not read. The model only
//! proposes phrases; the engine runs them through its own extractors and rules.

use std::collections::BTreeMap;

use frontdesk_engine::ModelRequest;
use frontdesk_engine::SlotType;
use frontdesk_engine::business::Business;
use serde_json::{Value, json};

use super::prompt::PromptTemplate;
use super::{CallStats, ChatMessage, ExtractRequest, LlmClient};

/// The system prompt, a template in the project's `prompts/` folder.
pub const PROMPT: &str = "llm/extract_slots.j2";

pub struct SlotModel {
    pub client: LlmClient,
    prompt: PromptTemplate,
    business: Value,
}

/// What one extraction gave: the phrases, and the call's accounting.
pub struct Extracted {
    pub values: BTreeMap<String, String>,
    pub stats: Option<CallStats>,
    pub error: Option<String>,
}

impl SlotModel {
    /// `prompt` is the text of `prompts/llm/extract_slots.j2`.
    pub fn new(client: LlmClient, prompt: &str, business: &Business) -> Result<SlotModel, String> {
        Ok(SlotModel {
            client,
            prompt: PromptTemplate::new(PROMPT, prompt)?,
            business: json!({ "name": business.name, "trade": business.trade }),
        })
    }

    pub async fn extract(&self, request: &ModelRequest) -> Extracted {
        let system = match self.render(request) {
            Ok(system) => system,
            Err(error) => {
                return Extracted {
                    values: BTreeMap::new(),
                    stats: None,
                    error: Some(error),
                };
            }
        };
        let mut messages = Vec::new();
        for earlier in &request.heard {
            messages.push(ChatMessage::user(earlier.clone()));
        }
        messages.push(ChatMessage::user(request.utterance.clone()));
        // How long the caller waits and how much the model may write are the configured
        // budgets; the token cap shrinks with the number of open slots.
        let budgets = self.client.config().budgets;
        let call = ExtractRequest {
            system,
            messages,
            schema_name: "slots".into(),
            schema: schema(request),
            max_tokens: Some(budgets.extract_tokens(request.slots.len())),
            deadline: Some(tokio::time::Instant::now() + budgets.extract),
        };
        match self.client.extract(call).await {
            Ok(done) => Extracted {
                values: phrases(&done.value, request),
                stats: Some(done.stats),
                error: None,
            },
            Err(error) => Extracted {
                values: BTreeMap::new(),
                stats: None,
                error: Some(error.describe()),
            },
        }
    }

    fn render(&self, request: &ModelRequest) -> Result<String, String> {
        self.prompt.render(&json!({
            "business": self.business,
            "today": request.today,
            "question": request.question.join(" "),
            "utterance": request.utterance,
        }))
    }
}

/// A strict JSON schema: one nullable string per open slot.
pub fn schema(request: &ModelRequest) -> Value {
    let mut properties = serde_json::Map::new();
    for slot in &request.slots {
        let mut description = slot
            .description
            .clone()
            .unwrap_or_else(|| slot.name.clone());
        let hint = match slot.kind {
            SlotType::Datetime => " (a day and/or time, in words)",
            SlotType::Location => " (one of the listed places)",
            SlotType::Phone => " (a phone number, digits)",
            SlotType::PersonName => " (the caller's first and last name)",
            SlotType::YesNo => " (yes or no)",
            SlotType::Service => " (the service asked for, in the caller's words)",
            SlotType::Vehicle => " (the vehicle's year, make and model, as said)",
            _ => "",
        };
        description.push_str(hint);
        let mut property = json!({ "type": ["string", "null"], "description": description });
        if !slot.options.is_empty() {
            property["description"] = json!(format!(
                "{description}; one of: {}",
                slot.options.join(", ")
            ));
        }
        properties.insert(slot.name.clone(), property);
    }
    let required: Vec<&String> = properties.keys().collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// The string answers for slots that were offered; anything else is dropped.
fn phrases(value: &Value, request: &ModelRequest) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for slot in &request.slots {
        if let Some(text) = value.get(&slot.name).and_then(Value::as_str) {
            let text = text.trim();
            if !text.is_empty() {
                out.insert(slot.name.clone(), text.to_string());
            }
        }
    }
    out
}
