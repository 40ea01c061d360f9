//! Knowledge files as the business writes them: each `## Heading` section is one spoken
//! answer; `keywords:` and `asks:` lines at the top of a section are for search, not spoken.

use crate::extract::normalize::normalize;

/// One `## Heading` section, before it is indexed.
pub(super) struct Section {
    pub heading: String,
    /// Comma-separated search phrases from the `keywords:` line.
    pub keywords: Vec<String>,
    /// Example questions, one per `asks:` line.
    pub asks: Vec<String>,
    /// Body lines, Markdown as written.
    pub body: Vec<String>,
}

/// A label line the owner writes at the top of a section: `keywords:` or `asks:`.
enum Label<'a> {
    Keywords(&'a str),
    Asks(&'a str),
}

fn label(line: &str) -> Option<Label<'_>> {
    let (name, rest) = line.split_once(':')?;
    let name = name.trim();
    if name.eq_ignore_ascii_case("keywords") {
        Some(Label::Keywords(rest))
    } else if name.eq_ignore_ascii_case("asks") {
        Some(Label::Asks(rest))
    } else {
        None
    }
}

pub(super) fn split_sections(content: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for line in content.lines() {
        let trimmed = line.trim();
        if let Some(heading) = trimmed.strip_prefix("## ") {
            sections.push(Section {
                heading: heading.trim().trim_end_matches('#').trim().to_owned(),
                keywords: Vec::new(),
                asks: Vec::new(),
                body: Vec::new(),
            });
            continue;
        }
        let Some(section) = sections.last_mut() else {
            continue; // Before the first section: the file's title or notes.
        };
        // Labels count only before the spoken text starts, so a sentence such as "Asks: ..."
        // further down stays part of the answer.
        let before_body = section.body.iter().all(|l| l.trim().is_empty());
        match label(trimmed).filter(|_| before_body) {
            Some(Label::Keywords(list)) => section.keywords.extend(
                list.split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned),
            ),
            Some(Label::Asks(question)) => {
                let question = question.trim();
                if !question.is_empty() {
                    section.asks.push(question.to_owned());
                }
            }
            None => section.body.push(line.to_owned()),
        }
    }
    sections
}

/// The body as one line of speech: Markdown bullets, emphasis and link targets dropped.
pub(super) fn spoken_text(lines: &[String]) -> String {
    let mut out = String::new();
    for line in lines {
        let line = line.trim();
        let line = line
            .trim_start_matches('#')
            .trim_start_matches(['-', '*', '+', '>'])
            .trim();
        out.push(' ');
        out.push_str(&strip_links(line).replace(['*', '_', '`'], ""));
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "[our site](https://…)" -> "our site".
fn strip_links(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find("](") {
        let Some(close) = rest.get(open..).and_then(|r| r.find(')')) else {
            break;
        };
        out.push_str(rest.get(..open).unwrap_or_default());
        rest = rest.get(open + close + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out.replace('[', "")
}

pub(super) fn slug(heading: &str) -> String {
    normalize(heading)
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
        .replace([':', '/', '.', '+'], "-")
}
