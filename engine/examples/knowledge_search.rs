//! What the knowledge base answers for each question of a JSON-lines file, for evaluation:
//! `cargo run -p frontdesk-engine --example knowledge_search -- knowledge < questions.jsonl`
//! reads `{"id", "text"}` lines (other fields are passed through) and writes one line per
//! question with the best entry (`top`, null when search finds nothing), its score, and the
//! runner-up.

use std::io::{BufRead, Write};

use frontdesk_engine::KnowledgeBase;
use frontdesk_engine::extract::normalize::normalize;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "knowledge".into());
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "md") {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push((name, std::fs::read_to_string(&path)?));
        }
    }
    files.sort();
    let kb = KnowledgeBase::from_markdown(&files)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let mut record: serde_json::Value = serde_json::from_str(&line)?;
        let text = record
            .get("text")
            .and_then(|t| t.as_str())
            .unwrap_or_default()
            .to_owned();
        let hits = kb.search(&normalize(&text), 2);
        let top = hits.first();
        let second = hits.get(1);
        if let Some(object) = record.as_object_mut() {
            object.insert("top".into(), top.map(|(e, _)| e.id.clone()).into());
            object.insert("score".into(), top.map(|(_, s)| f64::from(*s)).into());
            object.insert("second".into(), second.map(|(e, _)| e.id.clone()).into());
        }
        writeln!(out, "{record}")?;
    }
    Ok(())
}
