//! Mermaid state diagrams of flows, for `frontdesk flows graph`.

use crate::flow::model::{FlowDef, HandoffTarget};

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
        for t in &state.transitions {
            match &t.condition {
                Some(c) => out.push_str(&format!(
                    "    {sid} --> {} : {}\n",
                    id(&t.to.value),
                    escape(&c.value)
                )),
                None => out.push_str(&format!("    {sid} --> {}\n", id(&t.to.value))),
            }
        }
        if let Some(next) = &state.next {
            let label = if state.transitions.is_empty() {
                ""
            } else {
                " : otherwise"
            };
            out.push_str(&format!("    {sid} --> {}{label}\n", id(&next.value)));
        }
        for (slot, to) in state.also_collect.iter() {
            out.push_str(&format!(
                "    {sid} --> {} : {} said instead\n",
                id(&to.value),
                escape(&slot.value)
            ));
        }
        if let Some(outcome) = state.end {
            out.push_str(&format!("    {sid} --> [*] : {}\n", outcome.as_str()));
        }
        if let Some(target) = state.handoff {
            let to = match target {
                HandoffTarget::Human => "transfer to a person",
                HandoffTarget::Emergency => "transfer to emergency dispatch",
            };
            out.push_str(&format!("    {sid} --> [*] : {to}\n"));
        }
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
