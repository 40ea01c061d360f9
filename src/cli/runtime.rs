//! The one place a command turns the project folder, the database URL and the model flags into
//! what carries calls: the engine with the runtime's tools, the model (if one is configured),
//! and the database synced with the business.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use frontdesk_engine::Engine;
use frontdesk_engine::business::Business;

use crate::llm::{LlmArgs, Model};
use crate::project::{ProjectError, ProjectPaths, load_engine};
use crate::storage::{self, Storage};
use crate::tools;

/// The project's engine, with the tools this runtime offers flows.
pub fn engine(project: &Path) -> Result<Engine, ProjectError> {
    load_engine(&ProjectPaths::at_root(project), tools::catalog())
}

/// The engine and, when the flags name one, the model that reads what the rules miss.
pub fn engine_and_model(
    project: &Path,
    llm: &LlmArgs,
) -> Result<(Arc<Engine>, Option<Arc<Model>>)> {
    let engine = Arc::new(engine(project)?);
    let model = llm.model(&ProjectPaths::at_root(project).prompts, engine.business())?;
    Ok((engine, model))
}

/// The database, opened (and migrated) and told the business's locations and capacity.
pub async fn storage_for(database: &str, business: &Business) -> Result<Arc<dyn Storage>> {
    let store = storage::open(database).await?;
    store.sync_business(business).await?;
    Ok(store)
}
