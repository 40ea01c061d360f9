//! Reading a project folder (config, flows, prompts, knowledge) into engine sources.
//!
//! The engine itself does no I/O; this is where files become text it can load.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use frontdesk_engine::business::Business;
use frontdesk_engine::parse_yaml;
use frontdesk_engine::{Engine, LoadError, LoadErrors, SourceFile, Sources, ToolSpec};

/// Where a project's parts live. By default all are siblings in one folder.
#[derive(Debug, Clone)]
pub struct ProjectPaths {
    pub flows: PathBuf,
    pub prompts: PathBuf,
    pub knowledge: PathBuf,
    pub business: PathBuf,
}

impl ProjectPaths {
    /// The standard layout under `root`: `flows/`, `prompts/`, `knowledge/`,
    /// `config/business.yaml`.
    pub fn at_root(root: &Path) -> ProjectPaths {
        ProjectPaths {
            flows: root.join("flows"),
            prompts: root.join("prompts"),
            knowledge: root.join("knowledge"),
            business: root.join("config").join("business.yaml"),
        }
    }

    /// The layout around a flows folder (`DIR/../prompts`, ...), for `flows check DIR`.
    pub fn around_flows(flows: &Path) -> ProjectPaths {
        let root = flows.parent().unwrap_or(Path::new("."));
        ProjectPaths {
            flows: flows.to_path_buf(),
            ..ProjectPaths::at_root(root)
        }
    }
}

/// Why an engine could not be built: files that could not be read, or what they say is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{0:#}")]
    Io(anyhow::Error),
    #[error("{0}")]
    Invalid(LoadErrors),
}

pub fn read_business(path: &Path) -> Result<Business, ProjectError> {
    if !path.exists() {
        let folder = path
            .parent()
            .and_then(Path::parent)
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .map(|p| p.canonicalize().unwrap_or_else(|_| p.to_path_buf()))
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| ".".to_string());
        return Err(ProjectError::Io(anyhow::anyhow!(
            "no Frontdesk project in {folder}: {} does not exist (run from a project folder, or pass --project DIR)",
            display(path)
        )));
    }
    let file = read_file(path).map_err(ProjectError::Io)?;
    let business =
        parse_yaml::<Business>(&file).map_err(|e| ProjectError::Invalid(LoadErrors(vec![e])))?;
    let problems = business.check(&file, |zone| jiff::tz::TimeZone::get(zone).is_ok());
    if problems.is_empty() {
        Ok(business)
    } else {
        Err(ProjectError::Invalid(LoadErrors(problems)))
    }
}

pub fn read_sources(paths: &ProjectPaths, tools: Vec<ToolSpec>) -> Result<Sources, ProjectError> {
    let business = read_business(&paths.business)?;
    let io = ProjectError::Io;
    let mut globals = None;
    let mut flows = Vec::new();
    for path in files_with_extension(&paths.flows, "yaml").map_err(io)? {
        let file = read_file(&path).map_err(ProjectError::Io)?;
        if path.file_stem().is_some_and(|s| s == "global") {
            globals = Some(file);
        } else {
            flows.push(file);
        }
    }
    let globals = globals.ok_or_else(|| {
        ProjectError::Invalid(LoadErrors(vec![LoadError::file(
            &display(&paths.flows.join("global.yaml")),
            "the global patterns file is missing",
        )]))
    })?;
    let mut prompts = Vec::new();
    for path in files_with_extension(&paths.prompts, "j2").map_err(ProjectError::Io)? {
        let name = path
            .strip_prefix(&paths.prompts)
            .unwrap_or(&path)
            .with_extension("")
            .to_string_lossy()
            .replace('\\', "/");
        prompts.push((name, read_file(&path).map_err(ProjectError::Io)?));
    }
    let mut knowledge = Vec::new();
    if paths.knowledge.is_dir() {
        for path in files_with_extension(&paths.knowledge, "md").map_err(ProjectError::Io)? {
            knowledge.push(read_file(&path).map_err(ProjectError::Io)?);
        }
    }
    Ok(Sources {
        business,
        globals,
        flows,
        prompts,
        knowledge,
        tools,
    })
}

pub fn load_engine(paths: &ProjectPaths, tools: Vec<ToolSpec>) -> Result<Engine, ProjectError> {
    let sources = read_sources(paths, tools)?;
    Engine::load(sources).map_err(ProjectError::Invalid)
}

fn read_file(path: &Path) -> Result<SourceFile> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", display(path)))?;
    Ok(SourceFile::new(display(path), text))
}

/// Paths as the user typed them, with `./` dropped, so error lines are short and clickable.
fn display(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// Files ending in `.ext` under `dir`, recursively, sorted (load order is deterministic).
fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = fs::read_dir(&d).with_context(|| format!("reading {}", display(&d)))?;
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}
