//! Chat Completions bodies: what is sent and what comes back (docs/protocols.md §6.1–6.3).

use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use super::config::StructuredOutput;
use super::error::LlmError;
use super::types::{AnswerRequest, ChatMessage, ExtractRequest};

fn messages(system: &str, messages: &[ChatMessage]) -> Vec<Value> {
    let system = (!system.is_empty()).then(|| json!({"role": "system", "content": system}));
    system
        .into_iter()
        .chain(
            messages
                .iter()
                .map(|m| json!({"role": m.role, "content": m.content})),
        )
        .collect()
}

/// An extraction's body; `max_tokens` is always sent, as a small model left unbounded can
/// ramble for hundreds of tokens while the caller waits.
pub(crate) fn extract_body(
    model: &str,
    mode: StructuredOutput,
    request: &ExtractRequest,
    max_tokens: u32,
) -> Value {
    let mut body = json!({
        "model": model,
        "messages": messages(&request.system, &request.messages),
        // Extraction wants the most likely reading, not variety.
        "temperature": 0,
        "stream": false,
        // `max_tokens` rather than `max_completion_tokens`: local servers know only this one.
        "max_tokens": max_tokens,
    });
    match mode {
        StructuredOutput::JsonSchema => {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "strict": true,
                    "schema": request.schema,
                },
            });
        }
        StructuredOutput::FunctionCall => {
            body["tools"] = json!([{
                "type": "function",
                "function": {
                    "name": request.schema_name,
                    "description": "Record the values stated in the conversation.",
                    "parameters": request.schema,
                    "strict": true,
                },
            }]);
            body["tool_choice"] = json!({
                "type": "function",
                "function": {"name": request.schema_name},
            });
            body["parallel_tool_calls"] = json!(false);
        }
    }
    body
}

pub(crate) fn answer_body(
    model: &str,
    request: &AnswerRequest,
    stream: bool,
    max_tokens: u32,
) -> Value {
    let mut body = json!({
        "model": model,
        "messages": messages(&request.system, &request.messages),
        "stream": stream,
        "max_tokens": max_tokens,
    });
    if stream {
        body["stream_options"] = json!({"include_usage": true});
    }
    if let Some(temperature) = request.temperature {
        // Rounded: an f32 widened as is would be sent as 0.30000001192092896.
        body["temperature"] = json!((f64::from(temperature) * 1000.0).round() / 1000.0);
    }
    body
}

/// A missing or `null` list reads as empty (vLLM sends `"choices": null`).
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct Usage {
    #[serde(default)]
    pub prompt_tokens: u32,
    #[serde(default)]
    pub completion_tokens: u32,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChatResponse {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Message {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tool_calls: Vec<ToolCall>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ToolCall {
    #[serde(default)]
    pub function: Option<FunctionCall>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FunctionCall {
    #[serde(default)]
    pub arguments: Option<String>,
}

/// One `chat.completion.chunk`.
#[derive(Debug, Deserialize)]
pub(crate) struct Chunk {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub usage: Option<Usage>,
    /// Some servers report a failure inside a 200 stream.
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChunkChoice {
    #[serde(default)]
    pub delta: Option<Delta>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Delta {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
}

impl ChatResponse {
    pub(crate) fn parse(body: &str) -> Result<ChatResponse, LlmError> {
        serde_json::from_str(body).map_err(|e| {
            LlmError::BadResponse(format!("not a chat completion ({e}): {}", preview(body)))
        })
    }

    /// The first choice's message and finish reason; refusals and filtered output are errors.
    pub(crate) fn into_message(self) -> Result<(Message, Option<String>), LlmError> {
        let choice = self
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| LlmError::BadResponse("no choices in the response".into()))?;
        let message = choice.message.unwrap_or_default();
        if let Some(refusal) = message.refusal.as_deref().filter(|r| !r.is_empty()) {
            return Err(LlmError::Refused(refusal.to_string()));
        }
        if choice.finish_reason.as_deref() == Some("content_filter") {
            return Err(LlmError::Refused(
                "the content filter stopped the answer".into(),
            ));
        }
        Ok((message, choice.finish_reason))
    }
}

pub(crate) fn preview(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::extracted::extracted_json;

    #[test]
    fn tool_call_response() {
        let response = ChatResponse::parse(
            r#"{"id":"chatcmpl-123","object":"chat.completion","created":1717000000,"model":"gpt-4o-mini-2024-07-18",
 "choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,
   "tool_calls":[{"id":"call_abc","type":"function","function":{"name":"book_table","arguments":"{\"party_size\":2,\"time\":\"19:00\"}"}}]},
   "logprobs":null,"finish_reason":"tool_calls"}],
 "usage":{"prompt_tokens":80,"completion_tokens":20,"total_tokens":100}}"#,
        )
        .expect("valid response");
        assert_eq!(response.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
        let usage = response.usage.expect("usage");
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (80, 20));
        let (message, finish) = response.into_message().expect("message");
        let value = extracted_json(&message, finish.as_deref(), &json!({})).expect("json");
        assert_eq!(value, json!({"party_size": 2, "time": "19:00"}));
    }

    #[test]
    fn refusal() {
        let refused = ChatResponse::parse(
            r#"{"choices":[{"message":{"content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}"#,
        )
        .expect("valid");
        assert!(
            matches!(refused.into_message(), Err(LlmError::Refused(r)) if r == "I can't help with that.")
        );
    }

    #[test]
    fn chunks_with_null_or_missing_choices() {
        for text in [
            r#"{"choices":null,"usage":{"prompt_tokens":5,"completion_tokens":7}}"#,
            r#"{"usage":{"prompt_tokens":5,"completion_tokens":7}}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#,
        ] {
            let chunk: Chunk = serde_json::from_str(text).expect("chunk");
            assert!(chunk.choices.is_empty());
            assert_eq!(chunk.usage.map(|u| u.completion_tokens), Some(7));
        }
    }
}
