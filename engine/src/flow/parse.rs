//! YAML to flow definitions, keeping every syntax and shape error with its position.
//!
//! A key the schema does not know is reported at its place and then taken out of the text
//! (blanked, so every other position stays where it was) and the file is read again: the rest
//! of the file is checked as if the key were not there, instead of the whole file being lost.

use serde::de::DeserializeOwned;
use serde_saphyr::granit_parser::{Event, Parser, StructureStyle};

use super::model::{FlowDef, GlobalsDef};
use super::suggest::nearest;
use super::{LoadError, SourceFile};

/// Parses one YAML document into `T`, or returns the error at its position.
pub fn parse_yaml<T: DeserializeOwned>(file: &SourceFile) -> Result<T, LoadError> {
    serde_saphyr::from_str::<T>(&file.text).map_err(|error| located(file, &error))
}

/// A key the schema does not allow where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// The keys from the top of the file to the mapping that held it (`["states", "confirm"]`).
    pub path: Vec<String>,
    /// The key as written.
    pub key: String,
    /// The allowed field it most likely misspells (`next` for `nxt`).
    pub near: Option<String>,
    /// Its value, when that was a plain scalar (the target of a misspelt `next`).
    pub value: Option<String>,
}

/// What reading a file gave: the value when the file could be read at all, and every error.
#[derive(Debug)]
pub struct Parsed<T> {
    /// The file's contents, read as if its unknown keys were absent.
    pub value: Option<T>,
    /// The unknown keys, then the error that stopped the file (if one did).
    pub errors: Vec<LoadError>,
    /// The unknown keys that were taken out.
    pub unknown_keys: Vec<UnknownKey>,
}

/// Most unknown keys taken out of one file before the rest of it is given up.
const MAX_UNKNOWN_KEYS: usize = 64;

/// Parses one YAML document into `T`, going on past unknown keys (see the module comment).
pub fn parse_recovering<T: DeserializeOwned>(file: &SourceFile) -> Parsed<T> {
    let mut text = file.text.clone();
    let mut parsed = Parsed {
        value: None,
        errors: Vec::new(),
        unknown_keys: Vec::new(),
    };
    loop {
        let error = match serde_saphyr::from_str::<T>(&text) {
            Ok(value) => {
                parsed.value = Some(value);
                return parsed;
            }
            Err(error) => error,
        };
        let serde_saphyr::Error::SerdeUnknownField {
            field,
            expected,
            location,
            ..
        } = error.without_snippet()
        else {
            parsed.errors.push(located(file, &error));
            return parsed;
        };
        let entry = (parsed.unknown_keys.len() < MAX_UNKNOWN_KEYS)
            .then(|| find_entry(&text, location.line(), location.column()))
            .flatten();
        let Some(entry) = entry else {
            parsed.errors.push(located(file, &error));
            return parsed;
        };
        let near = nearest(field, expected.iter().copied());
        let mut message = format!("unknown field `{field}`");
        if let Some(near) = near {
            message.push_str(&format!(" (did you mean `{near}`?)"));
        }
        if !expected.is_empty() {
            message.push_str(&format!(", expected one of {}", expected.join(", ")));
        }
        parsed
            .errors
            .push(LoadError::at(&file.path, *location, message));
        text = blank(&text, &entry);
        parsed.unknown_keys.push(UnknownKey {
            path: entry.path,
            key: field.clone(),
            near: near.map(str::to_string),
            value: entry.scalar,
        });
    }
}

pub fn parse_flow(file: &SourceFile) -> Parsed<FlowDef> {
    parse_recovering(file)
}

pub fn parse_globals(file: &SourceFile) -> Parsed<GlobalsDef> {
    parse_recovering(file)
}

fn located(file: &SourceFile, error: &serde_saphyr::Error) -> LoadError {
    let message = plain_message(error);
    match error.location() {
        Some(location) => LoadError::at(&file.path, location, message),
        None => LoadError::file(&file.path, message),
    }
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

/// One `key: value` entry of a mapping, in characters of the text.
#[derive(Debug)]
struct Entry {
    /// Where the key starts.
    start: usize,
    /// Where the value ends.
    end: usize,
    /// The mapping is written `{ ... }`: its entries are separated by commas.
    in_flow: bool,
    path: Vec<String>,
    scalar: Option<String>,
}

/// Where the parser is inside the document.
enum Frame {
    Map {
        flow: bool,
        /// The key whose value is being read, once read.
        key: Option<String>,
    },
    Seq {
        index: usize,
    },
}

/// The entry whose key is at `line`:`column` (both from 1), found with the YAML parser so that
/// nested values, flow mappings and multi-line scalars end where YAML says they do.
fn find_entry(text: &str, line: u64, column: u64) -> Option<Entry> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut events =
        Parser::new_from_str(text).filter(|e| !matches!(e, Ok((Event::Comment(..), _))));
    while let Some(next) = events.next() {
        let (event, span) = next.ok()?;
        let is_node = matches!(
            event,
            Event::Scalar(..)
                | Event::Alias(..)
                | Event::SequenceStart(..)
                | Event::MappingStart(..)
        );
        let awaiting_key = matches!(stack.last(), Some(Frame::Map { key: None, .. }));
        if is_node && awaiting_key {
            let Event::Scalar(key, ..) = &event else {
                // A complex key: nothing an author of flows writes; skip over it.
                skip_node(&event, &mut events)?;
                set_key(&mut stack, String::new());
                continue;
            };
            let here = span.start.line() as u64 == line && span.start.col() as u64 + 1 == column;
            if !here {
                set_key(&mut stack, key.to_string());
                continue;
            }
            let path = stack
                .iter()
                .filter_map(|f| match f {
                    Frame::Map { key, .. } => key.clone(),
                    Frame::Seq { index } => Some(index.to_string()),
                })
                .collect();
            let in_flow = matches!(stack.last(), Some(Frame::Map { flow: true, .. }));
            let (value, value_span) = events.next()?.ok()?;
            let scalar = match &value {
                Event::Scalar(v, ..) => Some(v.to_string()),
                _ => None,
            };
            let end = match skip_node(&value, &mut events)? {
                Some(end) => end.max(value_span.end.index()),
                None => value_span.end.index(),
            };
            return Some(Entry {
                start: span.start.index(),
                end: end.max(span.end.index()),
                in_flow,
                path,
                scalar,
            });
        }
        match event {
            Event::MappingStart(style, ..) => stack.push(Frame::Map {
                flow: style == StructureStyle::Flow,
                key: None,
            }),
            Event::SequenceStart(..) => stack.push(Frame::Seq { index: 0 }),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                value_done(&mut stack);
            }
            Event::Scalar(..) | Event::Alias(..) => value_done(&mut stack),
            _ => {}
        }
    }
    None
}

fn set_key(stack: &mut [Frame], key: String) {
    if let Some(Frame::Map { key: slot, .. }) = stack.last_mut() {
        *slot = Some(key);
    }
}

/// A value was read: its mapping waits for the next key, its sequence for the next item.
fn value_done(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key, .. }) => *key = None,
        Some(Frame::Seq { index }) => *index += 1,
        None => {}
    }
}

/// Reads past the rest of the node `first` starts; returns where its last written character
/// ends (block collections end where their last item does, not at the next key).
fn skip_node<'a>(
    first: &Event<'a>,
    events: &mut impl Iterator<
        Item = Result<
            (Event<'a>, serde_saphyr::granit_parser::Span),
            serde_saphyr::granit_parser::ScanError,
        >,
    >,
) -> Option<Option<usize>> {
    let mut depth = match first {
        Event::MappingStart(..) | Event::SequenceStart(..) => 1,
        _ => return Some(None),
    };
    let mut flow = vec![matches!(
        first,
        Event::MappingStart(StructureStyle::Flow, ..)
            | Event::SequenceStart(StructureStyle::Flow, ..)
    )];
    let mut end = None;
    while depth > 0 {
        let (event, span) = events.next()?.ok()?;
        match event {
            Event::MappingStart(style, ..) | Event::SequenceStart(style, ..) => {
                depth += 1;
                flow.push(style == StructureStyle::Flow);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                depth -= 1;
                if flow.pop() == Some(true) {
                    end = Some(span.end.index());
                }
            }
            Event::Scalar(..) | Event::Alias(..) => end = Some(span.end.index()),
            _ => {}
        }
    }
    Some(end)
}

/// The text with the entry replaced by spaces (line breaks kept, so every position after it
/// is unchanged), and in a flow mapping one comma beside it.
fn blank(text: &str, entry: &Entry) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let end = entry.end.min(chars.len());
    let clear = |range: std::ops::Range<usize>, chars: &mut Vec<char>| {
        for c in &mut chars[range] {
            if *c != '\n' && *c != '\r' {
                *c = ' ';
            }
        }
    };
    clear(entry.start.min(end)..end, &mut chars);
    if entry.in_flow {
        let after = (end..chars.len()).find(|&i| !chars[i].is_whitespace());
        let before = (0..entry.start).rev().find(|&i| !chars[i].is_whitespace());
        match (after, before) {
            (Some(i), _) if chars[i] == ',' => clear(i..i + 1, &mut chars),
            (_, Some(i)) if chars[i] == ',' => clear(i..i + 1, &mut chars),
            _ => {}
        }
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict_flow(file: &SourceFile) -> Result<FlowDef, LoadError> {
        parse_yaml(file)
    }

    #[test]
    fn unknown_key_is_reported_with_its_position() {
        let file = SourceFile::new(
            "flows/x.yaml",
            "flow: x\ndescription: d\ninitial: a\nstates:\n  a:\n    sya: hello\n    end: booked\n",
        );
        let error = strict_flow(&file).unwrap_err();
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
        let flow = parse_flow(&file).value.unwrap();
        let lines: Vec<u64> = flow
            .states
            .iter()
            .map(|(k, _)| k.referenced.line())
            .collect();
        assert_eq!(lines, vec![5, 7]);
    }

    #[test]
    fn unknown_keys_are_reported_and_the_rest_is_read() {
        let text = "flow: x\ndescription: d\ninitial: a\nstates:\n  a:\n    colour:\n      - blue\n      - green\n    say: hello\n    nxt: b\n    end: booked\n  b: { say: hi, shade: dark, end: booked }\n  c: { tint: red, say: hi, end: booked }\n  d:\n    - oops\n";
        let file = SourceFile::new("flows/x.yaml", text);
        let parsed = parse_flow(&file);
        let lines: Vec<String> = parsed.errors.iter().map(|e| e.to_string()).collect();
        assert!(
            lines[0].starts_with("flows/x.yaml:6:5: unknown field `colour`, expected one of"),
            "{lines:#?}"
        );
        assert!(
            lines[1].starts_with("flows/x.yaml:10:5: unknown field `nxt` (did you mean `next`?)"),
            "{lines:#?}"
        );
        assert!(
            lines[2].starts_with("flows/x.yaml:12:17: unknown field `shade`, expected"),
            "{lines:#?}"
        );
        assert!(
            lines[3].starts_with("flows/x.yaml:13:8: unknown field `tint`"),
            "{lines:#?}"
        );
        // The state that is a list cannot be read: the file stops there, at its place.
        assert_eq!(lines.len(), 5, "{lines:#?}");
        assert!(
            lines[4].starts_with("flows/x.yaml:15:5: expected mapping"),
            "{lines:#?}"
        );
        assert!(parsed.value.is_none());
        let nxt = &parsed.unknown_keys[1];
        assert_eq!(nxt.path, ["states", "a"]);
        assert_eq!(nxt.near.as_deref(), Some("next"));
        assert_eq!(nxt.value.as_deref(), Some("b"));

        // Without the list, every state is read, as if the unknown keys were not there.
        let file = SourceFile::new("flows/x.yaml", text.replace("  d:\n    - oops\n", ""));
        let parsed = parse_flow(&file);
        assert_eq!(parsed.errors.len(), 4, "{:#?}", parsed.errors);
        let flow = parsed.value.unwrap();
        let b = flow.states.get("b").unwrap();
        assert_eq!(b.say.as_ref().unwrap().value, "hi");
        let c = flow.states.get("c").unwrap();
        assert!(c.end.is_some() && c.say.is_some());
        assert_eq!(
            flow.states.get("a").unwrap().say.as_ref().unwrap().value,
            "hello"
        );
    }

    #[test]
    fn a_first_key_after_a_dash_and_a_last_key_in_braces_come_out_cleanly() {
        let text = "flow: x\ndescription: d\ninitial: a\nstates:\n  a:\n    transitions:\n      - huh: 1\n        to: b\n      - { to: b, wat: 2 }\n  b: { end: booked }\n";
        let parsed = parse_flow(&SourceFile::new("flows/x.yaml", text));
        assert_eq!(parsed.errors.len(), 2, "{:#?}", parsed.errors);
        let flow = parsed.value.unwrap();
        assert_eq!(flow.states.get("a").unwrap().transitions.len(), 2);
    }
}
