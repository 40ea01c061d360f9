//! Jinja templates: every sentence the agent says, every transition condition and tool argument.
//!
//! One minijinja environment holds them all, compiled once at load. Undefined values are errors
//! (strict), so a typo in a template fails loudly in tests instead of saying nothing on a call.

use jiff::civil::{Date, DateTime, Time};
use minijinja::value::Value;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};

use crate::speak;

/// The compiled templates of one engine.
pub struct Templates {
    env: Environment<'static>,
}

/// How a templated value is produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    /// Free text with `{{ }}` holes: renders to a string.
    Text,
    /// A lone `{{ expr }}`: evaluates to a structured value (kept as JSON).
    Value,
    /// A condition: true or false.
    Condition,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    pub fn new() -> Templates {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_filter("speak_time", filter_speak_time);
        env.add_filter("speak_date", filter_speak_date);
        env.add_filter("speak_datetime", filter_speak_datetime);
        env.add_filter("speak_phone", filter_speak_phone);
        env.add_filter("speak_datetimes", filter_speak_datetimes);
        env.add_filter("or_list", filter_or_list);
        env.add_filter("and_list", filter_and_list);
        Templates { env }
    }

    /// Adds a template of the given kind under `name`. Errors carry minijinja's message.
    pub fn add(
        &mut self,
        name: &str,
        source: &str,
        kind: TemplateKind,
    ) -> Result<(), minijinja::Error> {
        let source = match kind {
            TemplateKind::Text => source.to_string(),
            TemplateKind::Value => match lone_expression(source) {
                Some(expr) => format!("{{{{ ({expr}) | tojson }}}}"),
                // Text with template syntax in it ("visit at {{ slots.when }}", or a broken
                // "{{ slots.location.code }") is a template: its value is the rendered text,
                // and a syntax error is an error at load, not a literal string.
                None if has_template_syntax(source) => {
                    format!("{{% set rendered %}}{source}{{% endset %}}{{{{ rendered | tojson }}}}")
                }
                None => format!("{{{{ {} | tojson }}}}", json_string_literal(source)?),
            },
            TemplateKind::Condition => format!("{{% if ({source}) %}}1{{% endif %}}"),
        };
        self.env.add_template_owned(name.to_string(), source)
    }

    /// Renders a text template, with whitespace collapsed into single spaces (prompt files are
    /// written over several lines but spoken as one).
    pub fn render_text(&self, name: &str, ctx: &Value) -> Result<String, minijinja::Error> {
        let raw = self.env.get_template(name)?.render(ctx)?;
        Ok(collapse_whitespace(&raw))
    }

    pub fn render_value(
        &self,
        name: &str,
        ctx: &Value,
    ) -> Result<serde_json::Value, minijinja::Error> {
        let raw = self.env.get_template(name)?.render(ctx)?;
        serde_json::from_str(&raw).map_err(|e| {
            minijinja::Error::new(
                ErrorKind::BadSerialization,
                format!("template `{name}` did not give JSON: {e}"),
            )
        })
    }

    pub fn render_condition(&self, name: &str, ctx: &Value) -> Result<bool, minijinja::Error> {
        Ok(self.env.get_template(name)?.render(ctx)? == "1")
    }

    /// The source of a template as written (for validators that look for slot references).
    pub fn source(&self, name: &str) -> Option<String> {
        self.env
            .get_template(name)
            .ok()
            .map(|t| t.source().to_string())
    }
}

/// `"{{ slots.when }}"` -> `Some("slots.when")`; anything with other text around it -> None.
pub fn lone_expression(source: &str) -> Option<&str> {
    let inner = source.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.contains("{{") || inner.contains("}}") {
        return None;
    }
    Some(inner.trim())
}

fn json_string_literal(text: &str) -> Result<String, minijinja::Error> {
    // A plain string with holes: render it as text, then JSON-encode the result.
    if text.contains("{{") || text.contains("{%") {
        return Ok(format!("({}) ", concat_expression(text)));
    }
    serde_json::to_string(text)
        .map_err(|e| minijinja::Error::new(ErrorKind::BadSerialization, e.to_string()))
}

/// Turns `"at {{ a }} ok"` into the expression `"at " ~ (a) ~ " ok"`.
fn concat_expression(text: &str) -> String {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(serde_json::Value::String(rest[..start].to_string()).to_string());
        }
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                parts.push(format!("({})", after[..end].trim()));
                rest = &after[end + 2..];
            }
            None => {
                parts.push(serde_json::Value::String(rest[start..].to_string()).to_string());
                rest = "";
            }
        }
    }
    if !rest.is_empty() {
        parts.push(serde_json::Value::String(rest.to_string()).to_string());
    }
    parts.join(" ~ ")
}

pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn invalid(message: String) -> minijinja::Error {
    minijinja::Error::new(ErrorKind::InvalidOperation, message)
}

/// Accepts `2026-06-02T14:00`, `2026-06-02 14:00` or with seconds.
pub fn parse_datetime(text: &str) -> Option<DateTime> {
    text.trim().replace(' ', "T").parse::<DateTime>().ok()
}

fn filter_speak_time(value: String) -> Result<String, minijinja::Error> {
    let time = match value.parse::<Time>() {
        Ok(t) => t,
        Err(_) => parse_datetime(&value)
            .map(|dt| dt.time())
            .ok_or_else(|| invalid(format!("speak_time: `{value}` is not a time")))?,
    };
    Ok(speak::speak_time(time))
}

fn filter_speak_date(value: String) -> Result<String, minijinja::Error> {
    let date = match value.parse::<Date>() {
        Ok(d) => d,
        Err(_) => parse_datetime(&value)
            .map(|dt| dt.date())
            .ok_or_else(|| invalid(format!("speak_date: `{value}` is not a date")))?,
    };
    Ok(speak::speak_date(date))
}

fn filter_speak_datetime(value: String) -> Result<String, minijinja::Error> {
    let dt = parse_datetime(&value)
        .ok_or_else(|| invalid(format!("speak_datetime: `{value}` is not a date and time")))?;
    Ok(speak::speak_datetime(dt))
}

fn filter_speak_phone(value: String) -> String {
    speak::speak_phone(&value)
}

/// Several datetimes, grouped by day: "Tuesday, June 2nd at 3 PM or 4 PM, or Wednesday, June
/// 3rd at 8 AM".
fn filter_speak_datetimes(items: Vec<String>) -> Result<String, minijinja::Error> {
    let mut days: Vec<(Date, Vec<Time>)> = Vec::new();
    for item in &items {
        let dt = parse_datetime(item)
            .ok_or_else(|| invalid(format!("speak_datetimes: `{item}` is not a date and time")))?;
        match days.iter_mut().find(|(d, _)| *d == dt.date()) {
            Some((_, times)) => times.push(dt.time()),
            None => days.push((dt.date(), vec![dt.time()])),
        }
    }
    // A day with several times already has an "or" inside; a comma keeps the days apart.
    let nested = days.iter().any(|(_, times)| times.len() > 1);
    let parts: Vec<String> = days
        .into_iter()
        .map(|(date, times)| {
            let times: Vec<Value> = times
                .into_iter()
                .map(|t| Value::from(speak::speak_time(t)))
                .collect();
            format!("{} at {}", speak::speak_date(date), join_list(times, "or"))
        })
        .collect();
    Ok(match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() && (nested || rest.len() > 1) => {
            format!("{}, or {last}", rest.join(", "))
        }
        _ => join_list(parts.into_iter().map(Value::from).collect(), "or"),
    })
}

fn join_list(items: Vec<Value>, word: &str) -> String {
    let items: Vec<String> = items.iter().map(|v| v.to_string()).collect();
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        2 => format!("{} {word} {}", items[0], items[1]),
        n => format!("{}, {word} {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

fn filter_or_list(items: Vec<Value>) -> String {
    join_list(items, "or")
}

fn filter_and_list(items: Vec<Value>) -> String {
    join_list(items, "and")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_expressions_keep_structure() {
        let mut t = Templates::new();
        t.add("a", "{{ slots.when }}", TemplateKind::Value).unwrap();
        t.add("b", "call {{ call.id }}", TemplateKind::Value)
            .unwrap();
        let ctx = Value::from(minijinja::value::Serde(serde_json::json!({
            "slots": {"when": {"date": "2026-06-02"}}, "call": {"id": "CA1"}
        })));
        assert_eq!(
            t.render_value("a", &ctx).unwrap(),
            serde_json::json!({"date": "2026-06-02"})
        );
        assert_eq!(
            t.render_value("b", &ctx).unwrap(),
            serde_json::json!("call CA1")
        );
    }

    #[test]
    fn conditions_and_strict_undefined() {
        let mut t = Templates::new();
        t.add("c", "result.available", TemplateKind::Condition)
            .unwrap();
        let yes = Value::from(minijinja::value::Serde(
            serde_json::json!({"result": {"available": true}}),
        ));
        let no = Value::from(minijinja::value::Serde(
            serde_json::json!({"result": {"available": false}}),
        ));
        assert!(t.render_condition("c", &yes).unwrap());
        assert!(!t.render_condition("c", &no).unwrap());
        let missing = Value::from(minijinja::value::Serde(serde_json::json!({})));
        assert!(t.render_condition("c", &missing).is_err());
    }

    #[test]
    fn lists_read_naturally() {
        let items = vec![
            Value::from("2 PM"),
            Value::from("3 PM"),
            Value::from("4 PM"),
        ];
        assert_eq!(filter_or_list(items), "2 PM, 3 PM, or 4 PM");
        assert_eq!(filter_or_list(vec![Value::from("a")]), "a");
        let grouped = filter_speak_datetimes(vec![
            "2026-06-02T15:00".into(),
            "2026-06-02T16:00".into(),
            "2026-06-03T08:00".into(),
        ])
        .unwrap();
        assert_eq!(
            grouped,
            format!(
                "{} at {} or {}, or {} at {}",
                speak::speak_date("2026-06-02".parse().unwrap()),
                speak::speak_time("15:00".parse().unwrap()),
                speak::speak_time("16:00".parse().unwrap()),
                speak::speak_date("2026-06-03".parse().unwrap()),
                speak::speak_time("08:00".parse().unwrap()),
            )
        );
    }
}

/// Names of the templates derived from flow files.
pub(crate) mod names {
    pub fn condition(flow: &str, state: &str, i: usize) -> String {
        format!("@cond/{flow}/{state}/{i}")
    }
    pub fn arg(flow: &str, state: &str, key: &str) -> String {
        format!("@arg/{flow}/{state}/{key}")
    }
    pub fn offers(flow: &str, state: &str) -> String {
        format!("@offers/{flow}/{state}")
    }
    pub fn default(flow: &str, slot: &str) -> String {
        format!("@default/{flow}/{slot}")
    }
    pub fn anchor(flow: &str, slot: &str) -> String {
        format!("@anchor/{flow}/{slot}")
    }
    pub fn set(flow: &str, group: usize, key: &str) -> String {
        format!("@set/{flow}/{group}/{key}")
    }
}

/// Whether `source` uses any template syntax at all.
fn has_template_syntax(source: &str) -> bool {
    ["{{", "}}", "{%", "%}", "{#"]
        .iter()
        .any(|mark| source.contains(mark))
}
