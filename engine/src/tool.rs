//! What the runtime offers flows to call: each tool's name and arguments, checked at load.

/// A tool the runtime offers to flows, with the arguments it takes.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    /// The name flows call it by.
    pub name: String,
    /// Arguments it understands.
    pub args: Vec<String>,
    /// Arguments it cannot do without.
    pub required: Vec<String>,
}

impl ToolSpec {
    /// A tool with the arguments it requires and those it accepts besides.
    pub fn new(name: &str, required: &[&str], optional: &[&str]) -> ToolSpec {
        ToolSpec {
            name: name.to_string(),
            args: required
                .iter()
                .chain(optional)
                .map(|s| s.to_string())
                .collect(),
            required: required.iter().map(|s| s.to_string()).collect(),
        }
    }
}
