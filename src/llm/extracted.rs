//! The JSON an extraction produced, wherever the server put it: the forced tool call's
//! arguments, the message content (structured output, or servers that ignore `tool_choice`),
//! or a call written out as text in the content, as llama.cpp does when the model's chat
//! template cannot express tool calls: `{"name": "slots", "arguments": {…}}`, often fenced in
//! a Markdown code block, sometimes with `arguments` as a JSON string.

use serde_json::Value;

use super::error::LlmError;
use super::wire::{Message, preview};

/// The JSON value of an extraction answer. `schema` is the one asked for: a value shaped like
/// a call is unwrapped only when the schema does not itself ask for an `arguments` field.
pub(crate) fn extracted_json(
    message: &Message,
    finish: Option<&str>,
    schema: &Value,
) -> Result<Value, LlmError> {
    let arguments = message
        .tool_calls
        .first()
        .and_then(|call| call.function.as_ref())
        .and_then(|f| f.arguments.as_deref())
        .filter(|t| !t.trim().is_empty());
    let content = message.content.as_deref().filter(|t| !t.trim().is_empty());
    let text = arguments
        .or(content)
        .ok_or_else(|| LlmError::BadResponse("the model returned no JSON".into()))?;
    let value = parse_json_text(text).map_err(|e| {
        let why = if finish == Some("length") {
            "cut off at the token limit".to_string()
        } else {
            e.to_string()
        };
        LlmError::BadResponse(format!(
            "invalid JSON from the model ({why}): {}",
            preview(text)
        ))
    })?;
    if arguments.is_some() {
        return Ok(value);
    }
    Ok(unwrap_call(value, schema))
}

/// Parses JSON text, tolerating what local models wrap around it: a Markdown code fence, or a
/// sentence before or after. The error is the one for the text as a whole.
pub(crate) fn parse_json_text(text: &str) -> Result<Value, serde_json::Error> {
    let trimmed = text.trim();
    let whole = serde_json::from_str(trimmed);
    if whole.is_ok() {
        return whole;
    }
    fenced(trimmed)
        .into_iter()
        .chain(outermost(trimmed))
        .find_map(|inner| serde_json::from_str(inner.trim()).ok())
        .map_or(whole, Ok)
}

/// The inside of the first Markdown code block (its language tag, e.g. `json`, dropped).
fn fenced(text: &str) -> Option<&str> {
    let (_, after) = text.split_once("```")?;
    let body = match after.split_once('\n') {
        // The rest of the opening line is a language tag unless the JSON starts there.
        Some((tag, body)) if !tag.trim_start().starts_with(['{', '[']) => body,
        _ => after,
    };
    Some(body.split_once("```").map_or(body, |(inside, _)| inside))
}

/// From the first `{` to the last `}`: the JSON in "Here you go: {…} Hope it helps."
fn outermost(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    (start < end).then(|| &text[start..=end])
}

/// A function call written as text is replaced by its arguments: `{"name", "arguments"}`
/// (or `parameters`, as some chat templates say), `{"type": "function", "function": {…}}`,
/// or a list of exactly one of those. Anything else is the answer itself.
fn unwrap_call(value: Value, schema: &Value) -> Value {
    if schema.pointer("/properties/arguments").is_some() {
        return value;
    }
    match call_arguments(&value) {
        Some(arguments) => arguments,
        None => value,
    }
}

fn call_arguments(value: &Value) -> Option<Value> {
    let call = match value {
        Value::Array(items) if items.len() == 1 => &items[0],
        other => other,
    };
    let object = call.as_object()?;
    if let Some(function) = object.get("function").filter(|f| f.is_object()) {
        let only_envelope = object
            .keys()
            .all(|k| matches!(k.as_str(), "function" | "type" | "id"));
        return if only_envelope {
            call_arguments(function)
        } else {
            None
        };
    }
    let only_call = object.keys().all(|k| {
        matches!(
            k.as_str(),
            "name" | "arguments" | "parameters" | "type" | "id"
        )
    });
    if !only_call || !object.get("name").is_some_and(Value::is_string) {
        return None;
    }
    match object
        .get("arguments")
        .or_else(|| object.get("parameters"))?
    {
        arguments @ Value::Object(_) => Some(arguments.clone()),
        // `arguments` as OpenAI sends it: a string of JSON.
        Value::String(text) => parse_json_text(text).ok().filter(Value::is_object),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::llm::wire::ChatResponse;

    fn slots_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "location": {"type": ["string", "null"]},
                "when": {"type": ["string", "null"]}
            },
            "required": ["location", "when"],
            "additionalProperties": false
        })
    }

    fn content(text: &str) -> Message {
        Message {
            content: Some(text.into()),
            ..Message::default()
        }
    }

    fn extracted(text: &str) -> Value {
        extracted_json(&content(text), Some("stop"), &slots_schema())
            .unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn text_form_calls_are_unwrapped() {
        let slots = json!({"location": "Fort Worth", "when": "friday at 9"});
        let shapes = [
            // llama.cpp with a chat template that has no tool calls: the call as content.
            r#"{"name": "slots", "arguments": {"location": "Fort Worth", "when": "friday at 9"}}"#,
            // The same, fenced.
            "```json\n{\"name\": \"slots\", \"arguments\": {\"location\": \"Fort Worth\", \"when\": \"friday at 9\"}}\n```",
            // `arguments` as a JSON string, the way OpenAI sends them in `tool_calls`.
            r#"{"name": "slots", "arguments": "{\"location\": \"Fort Worth\", \"when\": \"friday at 9\"}"}"#,
            // Fenced without a language tag, with words around it.
            "Here is the call:\n```\n{\"name\": \"slots\", \"arguments\": {\"location\": \"Fort Worth\", \"when\": \"friday at 9\"}}\n```\nDone.",
            // `parameters` instead of `arguments`, and a type.
            r#"{"type": "function", "name": "slots", "parameters": {"location": "Fort Worth", "when": "friday at 9"}}"#,
            // OpenAI's tool-call envelope, and a list of one call.
            r#"{"type": "function", "function": {"name": "slots", "arguments": "{\"location\": \"Fort Worth\", \"when\": \"friday at 9\"}"}}"#,
            r#"[{"name": "slots", "arguments": {"location": "Fort Worth", "when": "friday at 9"}}]"#,
            // Hermes-style tags around the call.
            "<tool_call>\n{\"name\": \"slots\", \"arguments\": {\"location\": \"Fort Worth\", \"when\": \"friday at 9\"}}\n</tool_call>",
        ];
        for shape in shapes {
            assert_eq!(extracted(shape), slots, "{shape}");
        }
    }

    #[test]
    fn answers_that_only_look_like_calls_are_kept() {
        // A slot called `name` is an answer, not a call.
        let schema = json!({"type": "object", "properties": {"name": {}, "when": {}}});
        let answer = content(r#"{"name": "Linda Park", "when": null}"#);
        assert_eq!(
            extracted_json(&answer, None, &schema).expect("json"),
            json!({"name": "Linda Park", "when": null})
        );
        let named = content(r#"{"name": "Linda Park"}"#);
        assert_eq!(
            extracted_json(&named, None, &schema).expect("json"),
            json!({"name": "Linda Park"})
        );
        // A schema that asks for `arguments` gets the object as it is.
        let schema = json!({"type": "object", "properties": {"name": {}, "arguments": {}}});
        let call_like = content(r#"{"name": "x", "arguments": {"a": 1}}"#);
        assert_eq!(
            extracted_json(&call_like, None, &schema).expect("json"),
            json!({"name": "x", "arguments": {"a": 1}})
        );
        // Arguments that are not an object leave the value alone.
        assert_eq!(
            extracted(r#"{"name": "slots", "arguments": "not json"}"#),
            json!({"name": "slots", "arguments": "not json"})
        );
    }

    #[test]
    fn a_real_tool_call_wins_over_content() {
        let response = ChatResponse::parse(
            r#"{"choices":[{"message":{"content":"{\"name\": \"slots\", \"arguments\": {\"when\": \"never\"}}",
              "tool_calls":[{"id":"call_1","type":"function","function":{"name":"slots","arguments":"{\"when\":\"friday\"}"}}]},
              "finish_reason":"tool_calls"}]}"#,
        )
        .expect("valid");
        let (message, finish) = response.into_message().expect("message");
        assert_eq!(
            extracted_json(&message, finish.as_deref(), &slots_schema()).expect("json"),
            json!({"when": "friday"})
        );
        // An empty `arguments` string falls back to the content.
        let response = ChatResponse::parse(
            r#"{"choices":[{"message":{"content":"{\"name\": \"slots\", \"arguments\": {\"when\": \"friday\"}}",
              "tool_calls":[{"id":"call_1","type":"function","function":{"name":"slots","arguments":""}}]},
              "finish_reason":"stop"}]}"#,
        )
        .expect("valid");
        let (message, finish) = response.into_message().expect("message");
        assert_eq!(
            extracted_json(&message, finish.as_deref(), &slots_schema()).expect("json"),
            json!({"when": "friday"})
        );
    }

    #[test]
    fn fenced_content_prose_and_truncation() {
        assert_eq!(extracted("```json\n{\"a\": 1}\n```"), json!({"a": 1}));
        assert_eq!(
            extracted("Sure! {\"location\": null, \"when\": \"9\"} Anything else?"),
            json!({"location": null, "when": "9"})
        );

        let prose = extracted_json(
            &content("The fort worth shop friday at 9."),
            Some("stop"),
            &slots_schema(),
        )
        .expect_err("not JSON");
        assert!(prose.to_string().contains("The fort worth shop"), "{prose}");

        let cut = content("{\"a\": ");
        let err = extracted_json(&cut, Some("length"), &slots_schema()).expect_err("truncated");
        assert!(err.to_string().contains("token limit"), "{err}");

        let empty = extracted_json(&content("  "), Some("stop"), &slots_schema());
        assert!(
            matches!(&empty, Err(LlmError::BadResponse(why)) if why.contains("no JSON")),
            "{empty:?}"
        );
    }
}
