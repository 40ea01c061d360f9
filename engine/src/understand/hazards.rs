//! Hazards as concepts said together: a hazard is present when every concept of one of its
//! groups is said and counts, and none of its `unless` concepts does.

use super::lexicon::ConceptId;
use super::scope::Said;

/// A hazard, compiled from a flow's `hazards:` entry.
#[derive(Debug, Clone)]
pub struct Hazard {
    pub id: String,
    /// The flow that handles it.
    pub flow: String,
    pub groups: Vec<Vec<ConceptId>>,
    pub unless: Vec<ConceptId>,
    pub doubt: Vec<ConceptId>,
    pub certain: Vec<ConceptId>,
    /// Prompt of the safety question for split evidence.
    pub check: Option<String>,
}

/// What was found about hazards in one utterance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HazardFinding {
    /// Said and counting: act at once.
    Present { flow: String, hazard: String },
    /// Said, but with something that splits the evidence: ask the safety question.
    Unsure {
        flow: String,
        hazard: String,
        check: String,
    },
}

impl HazardFinding {
    pub fn hazard(&self) -> &str {
        match self {
            HazardFinding::Present { hazard, .. } | HazardFinding::Unsure { hazard, .. } => hazard,
        }
    }
}

/// The first hazard (in declaration order) the utterance establishes; a present one wins over
/// an unsure one.
pub fn find(hazards: &[Hazard], said: &[Said]) -> Option<HazardFinding> {
    let counts = |c: &ConceptId| said.iter().any(|s| s.concept == *c && s.counts);
    let mut unsure = None;
    for hazard in hazards {
        let matched = hazard.groups.iter().any(|g| g.iter().all(counts));
        if !matched || hazard.unless.iter().any(counts) {
            continue;
        }
        let doubted = hazard.doubt.iter().any(counts) && !hazard.certain.iter().any(counts);
        match (&hazard.check, doubted) {
            (Some(check), true) => {
                unsure.get_or_insert(HazardFinding::Unsure {
                    flow: hazard.flow.clone(),
                    hazard: hazard.id.clone(),
                    check: check.clone(),
                });
            }
            _ => {
                return Some(HazardFinding::Present {
                    flow: hazard.flow.clone(),
                    hazard: hazard.id.clone(),
                });
            }
        }
    }
    unsure
}
