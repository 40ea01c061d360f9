//! The language model as the call driver uses it: slot extraction and knowledge answers over
//! one client, so both share its circuit breaker and accounting.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use frontdesk_engine::business::Business;

use super::answers::{self, AnswerModel};
use super::slots::{self, SlotModel};
use super::{LlmClient, LlmConfig, StructuredOutput};

pub struct Model {
    pub slots: SlotModel,
    pub answers: AnswerModel,
}

impl Model {
    /// Reads both prompt templates from the project's `prompts/` folder.
    pub fn new(
        client: LlmClient,
        prompts_dir: &Path,
        business: &Business,
    ) -> anyhow::Result<Model> {
        let read = |name: &str| {
            let path = prompts_dir.join(name);
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
        };
        Ok(Model {
            slots: SlotModel::new(client.clone(), &read(slots::PROMPT)?, business)
                .map_err(|e| anyhow!(e))?,
            answers: AnswerModel::new(client, &read(answers::PROMPT)?, business)
                .map_err(|e| anyhow!(e))?,
        })
    }

    pub fn client(&self) -> &LlmClient {
        &self.slots.client
    }
}

/// Where the language model is, from the command line or the environment. Without a URL the
/// agent runs on its rules alone.
#[derive(Debug, Clone, clap::Args)]
pub struct LlmArgs {
    /// OpenAI-compatible base URL: https://api.openai.com/v1, http://localhost:11434/v1
    /// (Ollama), http://localhost:8080/v1 (llama.cpp), http://localhost:8000/v1 (vLLM).
    #[arg(long, env = "FRONTDESK_LLM_URL")]
    pub llm_url: Option<String>,
    /// Model name as the server knows it.
    #[arg(long, env = "FRONTDESK_LLM_MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,
    /// API key (sent as a Bearer token; local servers usually need none).
    #[arg(long, env = "FRONTDESK_LLM_KEY", hide_env_values = true)]
    pub llm_key: Option<String>,
    /// Ask for a function call instead of structured output (servers without `json_schema`).
    #[arg(long, env = "FRONTDESK_LLM_FUNCTION_CALLS")]
    pub llm_function_calls: bool,
}

impl LlmArgs {
    /// The model these settings describe, or None when no URL is set.
    pub fn model(
        &self,
        prompts_dir: &Path,
        business: &Business,
    ) -> anyhow::Result<Option<Arc<Model>>> {
        let Some(url) = &self.llm_url else {
            return Ok(None);
        };
        let mut config = LlmConfig::new(url.clone(), self.llm_model.clone());
        if let Some(key) = &self.llm_key {
            config = config.with_api_key(key.clone());
        }
        if self.llm_function_calls {
            config.structured_output = StructuredOutput::FunctionCall;
        }
        let client = LlmClient::new(config).map_err(|e| anyhow!("{e}"))?;
        Ok(Some(Arc::new(Model::new(client, prompts_dir, business)?)))
    }
}
