//! The language model as the call driver uses it: slot extraction and knowledge answers over
//! one client, so both share its circuit breaker and accounting.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use frontdesk_engine::business::Business;

use super::answers::{self, AnswerModel};
use super::slots::{self, SlotModel};
use super::{LlmArgs, LlmClient};

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

impl LlmArgs {
    /// The model these settings describe, or None when no URL is set.
    pub fn model(
        &self,
        prompts_dir: &Path,
        business: &Business,
    ) -> anyhow::Result<Option<Arc<Model>>> {
        let Some(config) = self.config() else {
            return Ok(None);
        };
        let client = LlmClient::new(config).map_err(|e| anyhow!("{e}"))?;
        Ok(Some(Arc::new(Model::new(client, prompts_dir, business)?)))
    }
}
