//! Incremental Server-Sent Events parsing for streamed completions (docs/protocols.md §6.3).
//!
//! Network reads split events anywhere, even inside a UTF-8 character, so bytes are buffered
//! until a whole line is in. Lines may end in `\n`, `\r\n` or `\r`; lines starting with `:`
//! are comments (keep-alives); only `data` fields matter to chat completions.

#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buffer: Vec<u8>,
    data: Option<String>,
    /// A `\r` ended the last line; a `\n` right after it belongs to the same line break.
    after_cr: bool,
}

impl SseParser {
    pub(crate) fn new() -> Self {
        SseParser::default()
    }

    /// Feeds bytes and returns the `data` of every event they completed.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut events = Vec::new();
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.buffer);
                    self.line(&String::from_utf8_lossy(&line), &mut events);
                }
                _ => self.buffer.push(b),
            }
        }
        events
    }

    /// Ends the input: an event not followed by a blank line still counts.
    pub(crate) fn finish(&mut self) -> Option<String> {
        let mut events = Vec::new();
        if !self.buffer.is_empty() {
            let line = std::mem::take(&mut self.buffer);
            self.line(&String::from_utf8_lossy(&line), &mut events);
        }
        events.extend(self.data.take());
        events.pop()
    }

    fn line(&mut self, line: &str, events: &mut Vec<String>) {
        if line.is_empty() {
            events.extend(self.data.take());
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        if field != "data" {
            return;
        }
        let value = value.strip_prefix(' ').unwrap_or(value);
        match &mut self.data {
            Some(data) => {
                data.push('\n');
                data.push_str(value);
            }
            None => self.data = Some(value.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_reads() {
        let stream = "data: {\"a\":1}\n\n: keep-alive\n\ndata: {\"b\":\"é\"}\r\n\r\nevent: x\nid: 3\ndata: [DONE]\n\n";
        let bytes = stream.as_bytes();
        // Every way of cutting the stream in two gives the same events.
        for cut in 0..bytes.len() {
            let mut parser = SseParser::new();
            let mut events = parser.push(&bytes[..cut]);
            events.extend(parser.push(&bytes[cut..]));
            assert_eq!(
                events,
                vec!["{\"a\":1}", "{\"b\":\"é\"}", "[DONE]"],
                "cut {cut}"
            );
            assert_eq!(parser.finish(), None);
        }
    }

    #[test]
    fn byte_by_byte_with_cr_line_ends() {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for b in b"data: one\r\rdata:two\r\ndata: more\r\n\r\n" {
            events.extend(parser.push(&[*b]));
        }
        assert_eq!(events, vec!["one", "two\nmore"]);
    }

    #[test]
    fn last_event_without_blank_line() {
        let mut parser = SseParser::new();
        assert!(parser.push(b"data: [DONE]").is_empty());
        assert_eq!(parser.finish().as_deref(), Some("[DONE]"));
    }
}
