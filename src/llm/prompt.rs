//! A system prompt kept as a Jinja template in the project's `prompts/` folder: compiled once,
//! strict about undefined values, errors named after the file.

use serde_json::Value;

pub struct PromptTemplate {
    /// Path under `prompts/`, e.g. "llm/answer_question.j2".
    name: &'static str,
    env: minijinja::Environment<'static>,
}

impl PromptTemplate {
    pub fn new(name: &'static str, text: &str) -> Result<PromptTemplate, String> {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_template_owned(name.to_string(), text.to_string())
            .map_err(|e| format!("prompts/{name}: {e}"))?;
        Ok(PromptTemplate { name, env })
    }

    pub fn render(&self, context: &Value) -> Result<String, String> {
        let template = self
            .env
            .get_template(self.name)
            .map_err(|e| e.to_string())?;
        template
            .render(minijinja::Value::from(minijinja::value::Serde(context)))
            .map_err(|e| format!("prompts/{}: {e}", self.name))
    }
}
