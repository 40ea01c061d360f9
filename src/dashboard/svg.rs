//! Charts and flow diagrams as inline SVG, drawn on the server: no script, no CDN, and they
//! scale to a phone's width (`viewBox` with `width="100%"`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write;

use frontdesk_engine::{Edge, FlowDef};

/// Text for SVG and HTML alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Horizontal bars, one per (label, value), the value written at each bar's end.
pub fn bars(title: &str, rows: &[(String, u64)]) -> String {
    let row_height = 26;
    let label_width = 130;
    let bar_space = 220;
    let height = (rows.len().max(1) * row_height + 10) as u32;
    let most = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {height}" width="100%">"#,
        escape(title),
        label_width + bar_space + 50
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = i * row_height + 5;
        let width = (*value as f64 / most as f64 * bar_space as f64).round() as u64;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" class="label">{}</text><rect x="{label_width}" y="{y}" width="{}" height="18" rx="3" class="bar"/><text x="{}" y="{}" class="value">{value}</text>"#,
            label_width - 8,
            y + 14,
            escape(label),
            width.max(1),
            label_width as u64 + width + 6,
            y + 14,
        );
    }
    if rows.is_empty() {
        svg.push_str(r#"<text x="10" y="20" class="label">no calls yet</text>"#);
    }
    svg.push_str("</svg>");
    svg
}

/// Vertical bars for the 24 hours of a day: calls started in each hour.
pub fn hours(title: &str, per_hour: &[u64; 24]) -> String {
    let (column, chart_height) = (16u64, 100u64);
    let most = per_hour.iter().copied().max().unwrap_or(0).max(1);
    // Room above the tallest bar for its count.
    let top = 14;
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%">"#,
        escape(title),
        column * 24 + 10,
        chart_height + top + 30
    );
    for (hour, &count) in per_hour.iter().enumerate() {
        let height = count * chart_height / most;
        let x = hour as u64 * column + 5;
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{}" width="{}" height="{height}" class="bar"><title>{hour:02}:00 {count} calls</title></rect>"#,
            chart_height + top - height,
            column - 3,
        );
        if count > 0 {
            let _ = write!(
                svg,
                r#"<text x="{}" y="{}" text-anchor="middle" class="tiny">{count}</text>"#,
                x + (column - 3) / 2,
                chart_height + top - 3 - height,
            );
        }
        if hour % 3 == 0 {
            let _ = write!(
                svg,
                r#"<text x="{x}" y="{}" class="tiny">{hour:02}</text>"#,
                chart_height + top + 16
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A line of daily values (the quality trend): one point a day, the value on each.
pub fn trend(title: &str, points: &[(String, f64)]) -> String {
    let (step, chart_height) = (50.0, 100.0);
    let width = (points.len().max(2) as f64 - 1.0) * step + 60.0;
    let most = points
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {width} {}" width="100%">"#,
        escape(title),
        chart_height + 52.0
    );
    // 22 at the top: room for the highest point's value.
    let xy = |i: usize, v: f64| {
        (
            30.0 + i as f64 * step,
            22.0 + chart_height * (1.0 - v / most),
        )
    };
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            let (x, y) = xy(i, *v);
            format!("{x:.0},{y:.0}")
        })
        .collect();
    let _ = write!(
        svg,
        r#"<polyline points="{}" class="line"/>"#,
        line.join(" ")
    );
    for (i, (label, value)) in points.iter().enumerate() {
        let (x, y) = xy(i, *value);
        let _ = write!(
            svg,
            r#"<circle cx="{x:.0}" cy="{y:.0}" r="3" class="dot"/><text x="{x:.0}" y="{:.0}" text-anchor="middle" class="tiny">{value:.1}</text><text x="{x:.0}" y="{:.0}" text-anchor="middle" class="tiny">{}</text>"#,
            y - 6.0,
            chart_height + 44.0,
            escape(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

const NODE_WIDTH: i64 = 150;
const NODE_HEIGHT: i64 = 40;
const GAP_X: i64 = 24;
const GAP_Y: i64 = 46;

/// A flow as a layered drawing: states in rows by their distance from the initial state, each
/// with the calls that reached it (`traffic`, by state name), arrows to where it leads, and a
/// round end marker where the call ends or leaves the flow. The Mermaid text beside it names
/// every arrow's condition; here a hover title does.
pub fn flow_diagram(flow: &FlowDef, traffic: &HashMap<String, u64>) -> String {
    let names: Vec<String> = flow.states.iter().map(|(n, _)| n.value.clone()).collect();
    let edges = frontdesk_engine::edges(flow);
    let layer = layers(&flow.initial.value, &names, &edges);
    // Rows, states in flow-file order within a row.
    let mut rows: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for name in &names {
        rows.entry(layer[name.as_str()]).or_default().push(name);
    }
    let widest = rows.values().map(Vec::len).max().unwrap_or(1) as i64;
    let width = widest * (NODE_WIDTH + GAP_X) + GAP_X;
    let end_row = rows.len() as i64;
    let height = (end_row + 1) * (NODE_HEIGHT + GAP_Y) + GAP_Y;
    let mut at: HashMap<&str, (i64, i64)> = HashMap::new();
    for (row, states) in &rows {
        let count = states.len() as i64;
        let offset = (width - count * (NODE_WIDTH + GAP_X) + GAP_X) / 2;
        for (i, name) in states.iter().enumerate() {
            let x = offset + i as i64 * (NODE_WIDTH + GAP_X);
            let y = GAP_Y + *row as i64 * (NODE_HEIGHT + GAP_Y);
            at.insert(name, (x, y));
        }
    }
    let end = (
        width / 2,
        GAP_Y + end_row * (NODE_HEIGHT + GAP_Y) + NODE_HEIGHT / 2,
    );
    let busiest = traffic.values().copied().max().unwrap_or(0).max(1);
    let mut svg = format!(
        r#"<svg class="flow" role="img" aria-label="flow {}" viewBox="0 0 {width} {height}" width="100%" style="max-width: {width}px"><defs><marker id="arrow-{0}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>"#,
        escape(&flow.flow.value)
    );
    let marker = format!("url(#arrow-{})", escape(&flow.flow.value));
    // The way in.
    if let Some(&(x, y)) = at.get(flow.initial.value.as_str()) {
        let _ = write!(
            svg,
            r#"<circle cx="{}" cy="{}" r="7" class="start"/><line x1="{}" y1="{}" x2="{}" y2="{}" class="edge" marker-end="{marker}"/>"#,
            x + NODE_WIDTH / 2,
            y - GAP_Y + 10,
            x + NODE_WIDTH / 2,
            y - GAP_Y + 17,
            x + NODE_WIDTH / 2,
            y - 2
        );
    }
    for edge in &edges {
        let Some(&(fx, fy)) = at.get(edge.from.as_str()) else {
            continue;
        };
        let from = (fx + NODE_WIDTH / 2, fy + NODE_HEIGHT);
        let to = match edge.to.as_deref().and_then(|to| at.get(to)) {
            Some(&(tx, ty)) if ty > fy => (tx + NODE_WIDTH / 2, ty),
            // Back or sideways: into the target's side.
            Some(&(tx, ty)) => (tx + NODE_WIDTH, ty + NODE_HEIGHT / 2),
            None => (end.0, end.1 - 9),
        };
        let bend = (from.1 + to.1) / 2;
        let curve = if to.1 > from.1 {
            format!(
                "M{},{} C{},{} {},{} {},{}",
                from.0, from.1, from.0, bend, to.0, bend, to.0, to.1
            )
        } else {
            // A loop back up: out of the right side, round and in.
            let out = (fx + NODE_WIDTH, fy + NODE_HEIGHT / 2);
            format!(
                "M{},{} C{},{} {},{} {},{}",
                out.0,
                out.1,
                out.0 + 40,
                out.1,
                to.0 + 40,
                to.1,
                to.0,
                to.1
            )
        };
        let title = match (&edge.to, edge.label.is_empty()) {
            (Some(to), true) => format!("{} → {to}", edge.from),
            (Some(to), false) => format!("{} → {to}: {}", edge.from, edge.label),
            (None, _) => format!("{} → end: {}", edge.from, edge.label),
        };
        let _ = write!(
            svg,
            r#"<path d="{curve}" class="edge" marker-end="{marker}"><title>{}</title></path>"#,
            escape(&title)
        );
    }
    let _ = write!(
        svg,
        r#"<circle cx="{}" cy="{}" r="9" class="end"/><circle cx="{}" cy="{}" r="5" class="start"/>"#,
        end.0, end.1, end.0, end.1
    );
    for name in &names {
        let (x, y) = at[name.as_str()];
        let calls = traffic.get(name).copied().unwrap_or(0);
        // Busier states are darker.
        let heat = (calls * 4 / busiest).min(4);
        let _ = write!(
            svg,
            r#"<g class="state heat{heat}"><title>{} calls reached {}</title><rect x="{x}" y="{y}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6"/><text x="{}" y="{}" text-anchor="middle" class="name">{}</text><text x="{}" y="{}" text-anchor="middle" class="count">{calls} calls</text></g>"#,
            calls,
            escape(name),
            x + NODE_WIDTH / 2,
            y + 16,
            escape(&shorten(name, 22)),
            x + NODE_WIDTH / 2,
            y + 32,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Each state's row: breadth-first distance from the initial state; states it never reaches
/// go in a row after the rest.
fn layers<'a>(initial: &str, names: &'a [String], edges: &[Edge]) -> HashMap<&'a str, usize> {
    let mut layer: HashMap<&str, usize> = HashMap::new();
    let mut queue = VecDeque::new();
    if let Some(first) = names.iter().find(|n| *n == initial) {
        layer.insert(first, 0);
        queue.push_back(first.as_str());
    }
    while let Some(state) = queue.pop_front() {
        let depth = layer[state];
        for edge in edges.iter().filter(|e| e.from == state) {
            let Some(to) = edge
                .to
                .as_deref()
                .and_then(|to| names.iter().find(|n| *n == to))
            else {
                continue;
            };
            if !layer.contains_key(to.as_str()) {
                layer.insert(to, depth + 1);
                queue.push_back(to);
            }
        }
    }
    let unreached = layer.values().copied().max().map_or(0, |d| d + 1);
    for name in names {
        layer.entry(name).or_insert(unreached);
    }
    layer
}

fn shorten(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        return text.to_string();
    }
    let kept: String = text.chars().take(most - 1).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let svg = bars("outcomes", &[("<b>".into(), 3), ("booked".into(), 6)]);
        assert!(svg.contains("&lt;b&gt;"), "{svg}");
        assert!(!svg.contains("<b>"));
        assert!(svg.contains(">6</text>"));
    }

    #[test]
    fn the_busiest_hour_has_the_tallest_bar() {
        let mut per_hour = [0; 24];
        per_hour[9] = 4;
        per_hour[14] = 2;
        let svg = hours("busiest hours", &per_hour);
        assert!(svg.contains(r#"y="14" width="13" height="100""#), "{svg}");
        assert!(svg.contains(r#"y="64" width="13" height="50""#), "{svg}");
        assert!(svg.contains("09:00 4 calls"));
    }

    #[test]
    fn layers_follow_the_arrows() {
        let names: Vec<String> = ["a", "b", "c", "lost"].map(String::from).to_vec();
        let edge = |from: &str, to: Option<&str>| Edge {
            from: from.into(),
            to: to.map(String::from),
            label: String::new(),
        };
        let edges = [
            edge("a", Some("b")),
            edge("b", Some("c")),
            edge("c", Some("a")),
            edge("c", None),
        ];
        let layer = layers("a", &names, &edges);
        assert_eq!(
            [layer["a"], layer["b"], layer["c"], layer["lost"]],
            [0, 1, 2, 3]
        );
    }
}
