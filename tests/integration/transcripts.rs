//! Every caller script under tests/transcripts/ runs as a test: its `expect` block must pass and
//! its full transcript and state trace must match the reviewed snapshot.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use frontdesk::project::{ProjectPaths, load_engine};
use frontdesk::simulate::run_file;
use frontdesk::tools;

fn scripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "current_thread")]
async fn caller_scripts_pass_and_match_their_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let engine = Arc::new(load_engine(&ProjectPaths::at_root(root), tools::catalog()).unwrap());
    let files = scripts();
    assert!(
        files.len() >= 40,
        "expected at least 40 caller scripts, found {}",
        files.len()
    );
    let mut failed = Vec::new();
    for file in &files {
        let report = run_file(engine.clone(), file).await.unwrap();
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        if !report.passed {
            failed.push(format!("{stem}: {}", report.failures.join("; ")));
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(root.join("tests/transcripts/snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_description(report.name.clone());
        settings.bind(|| {
            insta::assert_yaml_snapshot!(stem.clone(), &report, {
                ".file" => "[file]",
            });
        });
    }
    assert!(failed.is_empty(), "scripts failed:\n{}", failed.join("\n"));
}
