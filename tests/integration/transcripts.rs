//! Every caller script (the default business's under tests/transcripts/, each example's under
//! examples/NAME/transcripts/) runs as a test: its `expect` block must pass and its full
//! transcript and state trace must match the reviewed snapshot beside it.

use frontdesk::simulate::run_file;

use crate::twilio_gather::Project;

async fn scripts_pass_and_match_their_snapshots(project: &Project) {
    let engine = project.engine();
    let files = project.script_files();
    let dir = project.scripts_dir();
    assert!(
        files.len() >= project.min_scripts(),
        "expected at least {} caller scripts in {}, found {}",
        project.min_scripts(),
        dir.display(),
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
        settings.set_snapshot_path(dir.join("snapshots"));
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

#[tokio::test(flavor = "current_thread")]
async fn caller_scripts_pass_and_match_their_snapshots() {
    scripts_pass_and_match_their_snapshots(&Project::Default).await;
}

#[tokio::test(flavor = "current_thread")]
async fn every_example_businesss_scripts_pass_and_match_their_snapshots() {
    for example in Project::examples() {
        scripts_pass_and_match_their_snapshots(&example).await;
    }
}
