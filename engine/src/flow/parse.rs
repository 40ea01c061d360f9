//! YAML to flow definitions, keeping every syntax and shape error with its position.

use serde::de::DeserializeOwned;

use super::model::{FlowDef, GlobalsDef};
use super::{LoadError, SourceFile};

/// Parses one YAML document into `T`, or returns the error at its position.
pub fn parse_yaml<T: DeserializeOwned>(file: &SourceFile) -> Result<T, LoadError> {
    serde_saphyr::from_str::<T>(&file.text).map_err(|error| {
        let message = plain_message(&error);
        match error.location() {
            Some(location) => LoadError::at(&file.path, location, message),
            None => LoadError::file(&file.path, message),
        }
    })
}

pub fn parse_flow(file: &SourceFile) -> Result<FlowDef, LoadError> {
    parse_yaml(file)
}

pub fn parse_globals(file: &SourceFile) -> Result<GlobalsDef, LoadError> {
    parse_yaml(file)
}

/// serde-saphyr renders a source snippet under its message; an editor-style `file:line:col:
/// message` line wants the message alone.
fn plain_message(error: &serde_saphyr::Error) -> String {
    let rendered = error.without_snippet().to_string();
    let first = rendered.lines().next().unwrap_or("invalid YAML").trim();
    // Drop a trailing " at line X column Y" since the position is printed in front.
    match first.find(" at line ") {
        Some(cut) => first[..cut].to_string(),
        None => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_reported_with_its_position() {
        let file = SourceFile::new(
            "flows/x.yaml",
            "flow: x\ndescription: d\ninitial: a\nstates:\n  a:\n    sya: hello\n    end: booked\n",
        );
        let error = parse_flow(&file).unwrap_err();
        assert_eq!(error.file, "flows/x.yaml");
        assert_eq!(error.line, 6, "{error}");
        assert!(error.message.contains("sya"), "{error}");
    }

    #[test]
    fn state_names_keep_their_lines() {
        let file = SourceFile::new(
            "flows/x.yaml",
            "flow: x\ndescription: d\ninitial: a\nstates:\n  a:\n    next: b\n  b:\n    end: booked\n",
        );
        let flow = parse_flow(&file).unwrap();
        let lines: Vec<u64> = flow
            .states
            .iter()
            .map(|(k, _)| k.referenced.line())
            .collect();
        assert_eq!(lines, vec![5, 7]);
    }
}
