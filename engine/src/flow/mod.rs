//! Flow files: the language ([`model`]), parsing with positions ([`parse`]) and the checks that
//! run before a single call is taken ([`validate`]).

pub mod model;
pub mod parse;
pub mod spanned_map;
pub mod suggest;
pub mod understanding;
pub mod validate;

use std::fmt;

use serde_saphyr::Location;

/// One file handed to the engine: its display path (used in error messages) and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as the author knows it, e.g. `flows/booking.yaml`.
    pub path: String,
    /// Its contents.
    pub text: String,
}

impl SourceFile {
    /// A file's path (as reported in errors) and contents.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// A problem found while loading, with the place to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file the problem is in (or a part: `prompts`, `knowledge`).
    pub file: String,
    /// Line, from 1.
    pub line: u64,
    /// Column, from 1.
    pub column: u64,
    /// What is wrong, in an author's terms.
    pub message: String,
}

impl LoadError {
    /// An error at a position in a file.
    pub fn at(file: &str, location: Location, message: impl Into<String>) -> LoadError {
        LoadError {
            file: file.to_string(),
            line: location.line().max(1),
            column: location.column().max(1),
            message: message.into(),
        }
    }

    /// An error about a whole file (no better position known).
    pub fn file(file: &str, message: impl Into<String>) -> LoadError {
        LoadError {
            file: file.to_string(),
            line: 1,
            column: 1,
            message: message.into(),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Every problem found while loading, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadErrors(pub Vec<LoadError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}
