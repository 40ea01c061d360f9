//! Mermaid state diagrams of flows, for `frontdesk flows graph`.

use crate::flow::model::{FlowDef, HandoffTarget, StateDef};

/// A Mermaid `stateDiagram-v2` of one flow: states, transitions with their conditions, ends.
pub fn mermaid(flow: &FlowDef) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    out.push_str(&format!(
        "    %% {}: {}\n",
        flow.flow.value, flow.description
    ));
    out.push_str(&format!("    [*] --> {}\n", id(&flow.initial.value)));
    for (name, state) in flow.states.iter() {
        let sid = id(&name.value);
        let mut notes = Vec::new();
        if let Some(slot) = &state.collect {
            notes.push(format!("ask {}", slot.value));
        }
        if let Some(tool) = &state.tool {
            notes.push(format!("tool {}", tool.value));
        }
        if let Some(answer) = &state.answer {
            notes.push(format!("answer {}", answer.value));
        }
        if let Some(say) = &state.say {
            notes.push(format!("say {}", say.value));
        }
        if !notes.is_empty() {
            out.push_str(&format!("    {sid} : {}\n", escape(&notes.join(" / "))));
        }
        for edge in state_edges(&name.value, state) {
            let to = edge.to.as_deref().map_or_else(|| "[*]".to_string(), id);
            match edge.label.is_empty() {
                true => out.push_str(&format!("    {sid} --> {to}\n")),
                // An outcome or a handoff is written as it is; conditions and slots escaped.
                false if edge.to.is_none() => {
                    out.push_str(&format!("    {sid} --> {to} : {}\n", edge.label))
                }
                false => out.push_str(&format!("    {sid} --> {to} : {}\n", escape(&edge.label))),
            }
        }
    }
    out
}

/// One arrow of a flow's diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The state it leaves.
    pub from: String,
    /// The state it leads to; `None` when the call ends or leaves the flow there.
    pub to: Option<String>,
    /// The condition, `otherwise`, the slot said instead, the outcome or the handoff; empty for
    /// a plain next step.
    pub label: String,
}

/// Every arrow of a flow, state by state: what the Mermaid text and the dashboard's drawing
/// both show.
pub fn edges(flow: &FlowDef) -> Vec<Edge> {
    flow.states
        .iter()
        .flat_map(|(name, state)| state_edges(&name.value, state))
        .collect()
}

fn state_edges(from: &str, state: &StateDef) -> Vec<Edge> {
    let edge = |to: Option<&str>, label: String| Edge {
        from: from.to_string(),
        to: to.map(String::from),
        label,
    };
    let mut out = Vec::new();
    for t in &state.transitions {
        let label = t.condition.as_ref().map(|c| c.value.clone());
        out.push(edge(Some(&t.to.value), label.unwrap_or_default()));
    }
    if let Some(next) = &state.next {
        let label = if state.transitions.is_empty() {
            ""
        } else {
            "otherwise"
        };
        out.push(edge(Some(&next.value), label.to_string()));
    }
    for (slot, to) in state.also_collect.iter() {
        out.push(edge(
            Some(&to.value),
            format!("{} said instead", slot.value),
        ));
    }
    if let Some(outcome) = state.end {
        out.push(edge(None, outcome.as_str().to_string()));
    }
    if let Some(target) = state.handoff {
        let to = match target {
            HandoffTarget::Human => "transfer to a person",
            HandoffTarget::Emergency => "transfer to emergency dispatch",
        };
        out.push(edge(None, to.to_string()));
    }
    out
}

/// Mermaid ids may not contain some characters; state names are snake_case already.
fn id(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Mermaid labels cannot contain a colon or a semicolon unescaped.
fn escape(label: &str) -> String {
    label
        .replace(':', "#58;")
        .replace(';', "#59;")
        .replace('"', "#quot;")
}
