//! TwiML, the XML that tells Twilio what to do with a call (docs/protocols.md §1.4, §2.2,
//! §2.3).
//!
//! The server renders the small subset it uses; the local fake Twilio (the softphone) parses
//! the same subset back to act on the server's answers. Text is always plain text: we never
//! emit SSML, so escaping is the whole job of the renderer.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// One TwiML verb, in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Verb {
    Say(Say),
    Gather(Gather),
    Dial(Dial),
    Hangup,
    /// Fetch new TwiML from `url` (always with POST, Twilio's default).
    Redirect {
        url: String,
    },
    Pause {
        seconds: u32,
    },
    /// `<Connect><Stream>`: a bidirectional Media Stream.
    Connect(Connect),
}

/// `<Connect action=…><Stream>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Connect {
    /// Requested when the stream ends without the call being updated (the socket closed or
    /// broke); its TwiML then goes on with the call. Without it Twilio runs the verbs after
    /// `</Connect>`.
    pub action: Option<String>,
    pub stream: Stream,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Say {
    pub text: String,
    /// `Polly.Joanna-Neural`, `alice`, …; Twilio's default voice when `None`.
    pub voice: Option<String>,
    pub language: Option<String>,
}

impl Say {
    pub fn new(text: impl Into<String>) -> Self {
        Say {
            text: text.into(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gather {
    /// Where Twilio posts the result. Empty means Twilio's default, the current document URL.
    pub action: String,
    /// `speech`, `dtmf` or `speech dtmf`. Parsing a document without it gives `dtmf`, Twilio's
    /// default.
    pub input: String,
    /// Seconds of silence that end speech, or `auto`.
    pub speech_timeout: Option<String>,
    /// Seconds to wait for any input to start (Twilio's default is 5).
    pub timeout: Option<u32>,
    pub language: Option<String>,
    /// Words and phrases to boost. Rendered comma-separated, so commas inside a hint are
    /// dropped, and each is cut to Twilio's 100-character limit.
    pub hints: Vec<String>,
    pub speech_model: Option<String>,
    /// Post to `action` even when nothing was heard, instead of falling through.
    pub action_on_empty_result: bool,
    pub num_digits: Option<u32>,
    /// Spoken while listening; the caller can talk over them.
    pub prompts: Vec<Say>,
}

impl Gather {
    /// A speech-and-keypad gather with automatic end-of-speech, the way Frontdesk listens.
    pub fn speech(action: impl Into<String>) -> Self {
        Gather {
            action: action.into(),
            input: "speech dtmf".to_string(),
            speech_timeout: Some("auto".to_string()),
            timeout: None,
            language: None,
            hints: Vec::new(),
            speech_model: None,
            action_on_empty_result: false,
            num_digits: None,
            prompts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dial {
    /// The number to connect, E.164.
    pub number: String,
    pub action: Option<String>,
    /// Seconds to ring before giving up (Twilio's default is 30).
    pub timeout: Option<u32>,
    pub caller_id: Option<String>,
    /// TwiML the person answering hears before being connected (a whisper): the number is
    /// then written as `<Number url="…">`.
    pub number_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    /// `wss://…` (or relative).
    pub url: String,
    pub name: Option<String>,
    pub status_callback: Option<String>,
    /// `<Parameter name= value=/>` pairs, handed to the stream's `start` message.
    pub parameters: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TwimlError {
    #[error("malformed TwiML: {0}")]
    Xml(String),
    #[error("the root element is <{0}>, not <Response>")]
    NotResponse(String),
    #[error("unsupported TwiML verb <{0}>")]
    UnsupportedVerb(String),
    #[error("invalid TwiML: {0}")]
    Invalid(String),
}

/// Hints longer than this are cut; Twilio rejects longer ones.
const MAX_HINT_CHARS: usize = 100;

/// Renders a whole TwiML document.
pub fn render(verbs: &[Verb]) -> String {
    let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#);
    for verb in verbs {
        render_verb(&mut out, verb);
    }
    out.push_str("</Response>");
    out
}

fn render_verb(out: &mut String, verb: &Verb) {
    match verb {
        Verb::Say(say) => render_say(out, say),
        Verb::Gather(g) => {
            out.push_str("<Gather");
            if !g.action.is_empty() {
                attr(out, "action", &g.action);
            }
            if !g.input.is_empty() {
                attr(out, "input", &g.input);
            }
            opt_attr(out, "speechTimeout", g.speech_timeout.as_deref());
            opt_attr(out, "timeout", g.timeout.map(|t| t.to_string()).as_deref());
            opt_attr(out, "language", g.language.as_deref());
            let hints = render_hints(&g.hints);
            if !hints.is_empty() {
                attr(out, "hints", &hints);
            }
            opt_attr(out, "speechModel", g.speech_model.as_deref());
            if g.action_on_empty_result {
                attr(out, "actionOnEmptyResult", "true");
            }
            opt_attr(
                out,
                "numDigits",
                g.num_digits.map(|n| n.to_string()).as_deref(),
            );
            if g.prompts.is_empty() {
                out.push_str("/>");
            } else {
                out.push('>');
                for say in &g.prompts {
                    render_say(out, say);
                }
                out.push_str("</Gather>");
            }
        }
        Verb::Dial(d) => {
            out.push_str("<Dial");
            opt_attr(out, "action", d.action.as_deref());
            opt_attr(out, "timeout", d.timeout.map(|t| t.to_string()).as_deref());
            opt_attr(out, "callerId", d.caller_id.as_deref());
            out.push('>');
            match &d.number_url {
                Some(url) => {
                    out.push_str("<Number");
                    attr(out, "url", url);
                    out.push('>');
                    out.push_str(&escape(&d.number));
                    out.push_str("</Number>");
                }
                None => out.push_str(&escape(&d.number)),
            }
            out.push_str("</Dial>");
        }
        Verb::Hangup => out.push_str("<Hangup/>"),
        Verb::Redirect { url } => {
            out.push_str(r#"<Redirect method="POST">"#);
            out.push_str(&escape(url));
            out.push_str("</Redirect>");
        }
        Verb::Pause { seconds } => {
            out.push_str("<Pause");
            attr(out, "length", &seconds.to_string());
            out.push_str("/>");
        }
        Verb::Connect(Connect { action, stream: s }) => {
            out.push_str("<Connect");
            opt_attr(out, "action", action.as_deref());
            out.push_str("><Stream");
            attr(out, "url", &s.url);
            opt_attr(out, "name", s.name.as_deref());
            opt_attr(out, "statusCallback", s.status_callback.as_deref());
            if s.parameters.is_empty() {
                out.push_str("/>");
            } else {
                out.push('>');
                for (name, value) in &s.parameters {
                    out.push_str("<Parameter");
                    attr(out, "name", name);
                    attr(out, "value", value);
                    out.push_str("/>");
                }
                out.push_str("</Stream>");
            }
            out.push_str("</Connect>");
        }
    }
}

fn render_say(out: &mut String, say: &Say) {
    out.push_str("<Say");
    opt_attr(out, "voice", say.voice.as_deref());
    opt_attr(out, "language", say.language.as_deref());
    out.push('>');
    out.push_str(&escape(&say.text));
    out.push_str("</Say>");
}

fn render_hints(hints: &[String]) -> String {
    hints
        .iter()
        .map(|h| {
            h.replace(',', "")
                .chars()
                .take(MAX_HINT_CHARS)
                .collect::<String>()
                .trim()
                .to_string()
        })
        .filter(|h| !h.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    out.push_str(&escape(value));
    out.push('"');
}

fn opt_attr(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        attr(out, name, value);
    }
}

/// Escapes text for both element content and attribute values. Control characters that XML 1.0
/// forbids even as references are dropped, so no caller-supplied text can make the document
/// unparseable.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() && (c as u32) < 0x20 => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Parsing: XML → a small element tree → verbs. The tree step keeps the verb logic free of
// event-stream bookkeeping.

#[derive(Debug)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

#[derive(Debug)]
enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// All text inside, nested elements included (so SSML tags inside `<Say>` are dropped and
    /// their words kept), trimmed.
    fn text(&self) -> String {
        fn collect(e: &Element, out: &mut String) {
            for child in &e.children {
                match child {
                    Node::Text(t) => out.push_str(t),
                    Node::Element(inner) => collect(inner, out),
                }
            }
        }
        let mut out = String::new();
        collect(self, &mut out);
        out.trim().to_string()
    }

    /// Non-whitespace text directly inside, which no container verb allows.
    fn stray_text(&self) -> Option<&str> {
        self.children.iter().find_map(|n| match n {
            Node::Text(t) if !t.trim().is_empty() => Some(t.trim()),
            _ => None,
        })
    }
}

/// Parses a TwiML document into the verbs Frontdesk uses. Whitespace, comments and unknown
/// attributes are ignored; an unknown verb is an error naming it.
pub fn parse(xml: &str) -> Result<Vec<Verb>, TwimlError> {
    let root = parse_tree(xml)?;
    if root.name != "Response" {
        return Err(TwimlError::NotResponse(root.name));
    }
    if let Some(text) = root.stray_text() {
        return Err(TwimlError::Invalid(format!(
            "text {text:?} directly inside <Response>"
        )));
    }
    root.elements().map(parse_verb).collect()
}

fn parse_verb(e: &Element) -> Result<Verb, TwimlError> {
    Ok(match e.name.as_str() {
        "Say" => Verb::Say(parse_say(e)),
        "Gather" => {
            let mut prompts = Vec::new();
            for child in e.elements() {
                match child.name.as_str() {
                    "Say" => prompts.push(parse_say(child)),
                    // Silence between prompts; our model has no place for it and the softphone
                    // loses nothing by skipping it.
                    "Pause" => {}
                    other => {
                        return Err(TwimlError::UnsupportedVerb(format!(
                            "{other} inside <Gather>"
                        )));
                    }
                }
            }
            Verb::Gather(Gather {
                action: e.attr("action").unwrap_or_default().to_string(),
                input: e.attr("input").unwrap_or("dtmf").to_string(),
                speech_timeout: e.attr("speechTimeout").map(str::to_string),
                timeout: number_attr(e, "timeout")?,
                language: e.attr("language").map(str::to_string),
                hints: e
                    .attr("hints")
                    .map(|h| {
                        h.split(',')
                            .map(str::trim)
                            .filter(|h| !h.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
                speech_model: e.attr("speechModel").map(str::to_string),
                action_on_empty_result: e
                    .attr("actionOnEmptyResult")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true")),
                num_digits: number_attr(e, "numDigits")?,
                prompts,
            })
        }
        "Dial" => {
            // Either a bare number as the body or a single <Number> noun.
            let mut number = None;
            let mut number_url = None;
            for child in e.elements() {
                match child.name.as_str() {
                    "Number" => {
                        number = Some(child.text());
                        number_url = child.attr("url").map(str::to_string);
                    }
                    other => {
                        return Err(TwimlError::UnsupportedVerb(format!(
                            "{other} inside <Dial>"
                        )));
                    }
                }
            }
            let number = number.unwrap_or_else(|| e.text());
            if number.is_empty() {
                return Err(TwimlError::Invalid("<Dial> without a number".to_string()));
            }
            Verb::Dial(Dial {
                number,
                action: e.attr("action").map(str::to_string),
                timeout: number_attr(e, "timeout")?,
                caller_id: e.attr("callerId").map(str::to_string),
                number_url,
            })
        }
        "Hangup" => Verb::Hangup,
        "Redirect" => {
            let url = e.text();
            if url.is_empty() {
                return Err(TwimlError::Invalid("<Redirect> without a URL".to_string()));
            }
            Verb::Redirect { url }
        }
        // Twilio's default pause is one second.
        "Pause" => Verb::Pause {
            seconds: number_attr(e, "length")?.unwrap_or(1),
        },
        "Connect" => {
            if let Some(text) = e.stray_text() {
                return Err(TwimlError::Invalid(format!(
                    "text {text:?} inside <Connect>"
                )));
            }
            let mut nouns = e.elements();
            let stream = match nouns.next() {
                Some(s) if s.name == "Stream" => s,
                Some(other) => {
                    return Err(TwimlError::UnsupportedVerb(format!(
                        "{} inside <Connect>",
                        other.name
                    )));
                }
                None => {
                    return Err(TwimlError::Invalid(
                        "<Connect> without a <Stream>".to_string(),
                    ));
                }
            };
            if let Some(extra) = nouns.next() {
                return Err(TwimlError::Invalid(format!(
                    "<Connect> holds more than one noun (<{}>)",
                    extra.name
                )));
            }
            Verb::Connect(Connect {
                action: e.attr("action").map(str::to_string),
                stream: parse_stream(stream)?,
            })
        }
        other => return Err(TwimlError::UnsupportedVerb(other.to_string())),
    })
}

fn parse_say(e: &Element) -> Say {
    Say {
        text: e.text(),
        voice: e.attr("voice").map(str::to_string),
        language: e.attr("language").map(str::to_string),
    }
}

fn parse_stream(e: &Element) -> Result<Stream, TwimlError> {
    let url = e
        .attr("url")
        .filter(|u| !u.is_empty())
        .ok_or_else(|| TwimlError::Invalid("<Stream> without a url".to_string()))?
        .to_string();
    let mut parameters = Vec::new();
    for child in e.elements() {
        if child.name != "Parameter" {
            return Err(TwimlError::UnsupportedVerb(format!(
                "{} inside <Stream>",
                child.name
            )));
        }
        let name = child
            .attr("name")
            .ok_or_else(|| TwimlError::Invalid("<Parameter> without a name".to_string()))?;
        parameters.push((
            name.to_string(),
            child.attr("value").unwrap_or_default().to_string(),
        ));
    }
    Ok(Stream {
        url,
        name: e.attr("name").map(str::to_string),
        status_callback: e.attr("statusCallback").map(str::to_string),
        parameters,
    })
}

fn number_attr(e: &Element, name: &str) -> Result<Option<u32>, TwimlError> {
    e.attr(name)
        .map(|v| {
            v.trim().parse().map_err(|_| {
                TwimlError::Invalid(format!("<{} {name}={v:?}> is not a whole number", e.name))
            })
        })
        .transpose()
}

fn xml_err(e: impl std::fmt::Display) -> TwimlError {
    TwimlError::Xml(e.to_string())
}

fn start_element(start: &BytesStart) -> Result<Element, TwimlError> {
    let name = String::from_utf8(start.name().as_ref().to_vec()).map_err(xml_err)?;
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(xml_err)?;
        let key = String::from_utf8(a.key.as_ref().to_vec()).map_err(xml_err)?;
        let value = a.unescape_value().map_err(xml_err)?.into_owned();
        attrs.push((key, value));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
    })
}

fn push_text(parent: Option<&mut Element>, text: &str) -> Result<(), TwimlError> {
    match parent {
        Some(parent) => {
            if let Some(Node::Text(last)) = parent.children.last_mut() {
                last.push_str(text);
            } else {
                parent.children.push(Node::Text(text.to_string()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(TwimlError::Xml(format!(
            "text {:?} outside the root element",
            text.trim()
        ))),
    }
}

/// Closes an element: into its parent, or as the root.
fn attach(
    stack: &mut [Element],
    root: &mut Option<Element>,
    element: Element,
) -> Result<(), TwimlError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None if root.is_none() => *root = Some(element),
        None => return Err(TwimlError::Xml("more than one root element".to_string())),
    }
    Ok(())
}

fn parse_tree(xml: &str) -> Result<Element, TwimlError> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    // Closes an element: into its parent, or as the root.
    loop {
        match reader.read_event().map_err(xml_err)? {
            Event::Start(start) => stack.push(start_element(&start)?),
            Event::Empty(start) => {
                let element = start_element(&start)?;
                attach(&mut stack, &mut root, element)?;
            }
            Event::End(_) => {
                // quick-xml checks that end names match their start tags.
                let element = stack
                    .pop()
                    .ok_or_else(|| TwimlError::Xml("unbalanced end tag".to_string()))?;
                attach(&mut stack, &mut root, element)?;
            }
            Event::Text(text) => push_text(stack.last_mut(), &text.decode().map_err(xml_err)?)?,
            Event::CData(data) => push_text(stack.last_mut(), &data.decode().map_err(xml_err)?)?,
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(xml_err)? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = reference.decode().map_err(xml_err)?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| TwimlError::Xml(format!("unknown entity &{name};")))?
                            .to_string()
                    }
                };
                push_text(stack.last_mut(), &resolved)?;
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(TwimlError::Xml(format!("<{}> is never closed", open.name)));
    }
    root.ok_or_else(|| TwimlError::Xml("empty document".to_string()))
}

#[cfg(test)]
mod tests;
