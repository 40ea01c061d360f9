//! Intent from examples: every flow's example utterances become TF-IDF vectors over word stems,
//! word pairs and the concepts they say; an utterance is scored against each flow by its
//! nearest examples. Built at load in milliseconds, deterministic, no model files.

use std::collections::HashMap;

/// Nearest examples averaged into a flow's nearest-example score.
const NEAREST: usize = 3;
/// Naive Bayes smoothing (additive, on feature weights).
const NB_SMOOTHING: f32 = 0.1;
/// Softmax temperature that turns Naive Bayes log-likelihoods into probabilities.
const NB_TEMPERATURE: f32 = 2.0;
/// Share of the nearest-example score in a flow's score; the rest is Naive Bayes.
const NEAREST_SHARE: f32 = 0.5;

/// A sparse, L2-normalized feature vector (feature id, weight), sorted by id.
type Vector = Vec<(u32, f32)>;

/// One labelled example, vectorized.
#[derive(Debug, Clone)]
struct Example {
    label: usize,
    vector: Vector,
}

/// A flow's score for an utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelScore {
    pub label: String,
    /// Mean cosine similarity to the label's nearest examples, 0 to 1.
    pub score: f32,
    /// Index of the single nearest example of this label.
    pub nearest: usize,
}

#[derive(Debug, Default)]
pub struct Classifier {
    labels: Vec<String>,
    features: HashMap<String, u32>,
    idf: Vec<f32>,
    examples: Vec<Example>,
    texts: Vec<String>,
    /// Where each example is written, for reports ("flows/booking.yaml:40:5").
    origins: Vec<String>,
    /// log P(feature | label), by label then feature id.
    log_likelihood: Vec<Vec<f32>>,
    /// log P(feature | label) of a feature a label never had.
    log_unseen: Vec<f32>,
    /// For each feature, the examples that have it and its weight there: similarity to every
    /// example in one pass over the utterance's features.
    postings: Vec<Vec<(u32, f32)>>,
}

/// A feature with its weight before IDF.
pub type Feature = (String, f32);

/// One example utterance of a label, with where it is written and its features.
#[derive(Debug, Clone)]
pub struct TrainingExample {
    pub label: String,
    pub text: String,
    pub origin: String,
    pub features: Vec<Feature>,
}

/// Two examples of different labels that read almost alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Collision {
    pub first: usize,
    pub second: usize,
    pub similarity: f32,
}

impl Classifier {
    /// Builds the classifier from labelled examples.
    pub fn new(examples: Vec<TrainingExample>) -> Classifier {
        let mut c = Classifier::default();
        let mut doc_freq: Vec<u32> = Vec::new();
        let mut raw: Vec<(usize, Vec<(u32, f32)>)> = Vec::new();
        for TrainingExample {
            label,
            text,
            origin,
            features,
        } in examples
        {
            let label_index = match c.labels.iter().position(|l| *l == label) {
                Some(i) => i,
                None => {
                    c.labels.push(label);
                    c.labels.len() - 1
                }
            };
            let mut ids: Vec<(u32, f32)> = Vec::new();
            for (name, weight) in features {
                let next = c.features.len() as u32;
                let id = *c.features.entry(name).or_insert(next);
                if id as usize >= doc_freq.len() {
                    doc_freq.push(0);
                }
                match ids.iter_mut().find(|(i, _)| *i == id) {
                    Some((_, w)) => *w = w.max(weight),
                    None => ids.push((id, weight)),
                }
            }
            for (id, _) in &ids {
                doc_freq[*id as usize] += 1;
            }
            raw.push((label_index, ids));
            c.texts.push(text);
            c.origins.push(origin);
        }
        let n = raw.len().max(1) as f32;
        c.idf = doc_freq
            .iter()
            .map(|&df| (1.0 + n / (1.0 + df as f32)).ln())
            .collect();
        c.examples = raw
            .into_iter()
            .map(|(label, ids)| Example {
                label,
                vector: c.weigh(ids),
            })
            .collect();
        c.train_naive_bayes();
        c.postings = vec![Vec::new(); c.features.len()];
        for (i, example) in c.examples.iter().enumerate() {
            for (id, w) in &example.vector {
                if let Some(list) = c.postings.get_mut(*id as usize) {
                    list.push((i as u32, *w));
                }
            }
        }
        c
    }

    /// Multinomial Naive Bayes over the same weighted vectors: it learns which features tell
    /// one flow from another, where the nearest examples only see what is shared.
    fn train_naive_bayes(&mut self) {
        let vocabulary = self.features.len() as f32;
        let mut mass = vec![vec![0.0f32; self.features.len()]; self.labels.len()];
        for example in &self.examples {
            for (id, w) in &example.vector {
                mass[example.label][*id as usize] += w;
            }
        }
        self.log_unseen = Vec::with_capacity(self.labels.len());
        self.log_likelihood = mass
            .into_iter()
            .map(|counts| {
                let total: f32 = counts.iter().sum();
                let denominator = total + NB_SMOOTHING * vocabulary;
                self.log_unseen.push((NB_SMOOTHING / denominator).ln());
                counts
                    .into_iter()
                    .map(|c| ((c + NB_SMOOTHING) / denominator).ln())
                    .collect()
            })
            .collect();
    }

    /// Naive Bayes probability of each label (uniform prior: flows are not more likely for
    /// having more examples).
    fn naive_bayes(&self, query: &Vector) -> Vec<f32> {
        let logits: Vec<f32> = self
            .log_likelihood
            .iter()
            .enumerate()
            .map(|(label, ll)| {
                query
                    .iter()
                    .map(|(id, w)| {
                        w * ll
                            .get(*id as usize)
                            .copied()
                            .unwrap_or(self.log_unseen[label])
                    })
                    .sum::<f32>()
                    / NB_TEMPERATURE
            })
            .collect();
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
        let sum: f32 = exp.iter().sum();
        exp.into_iter()
            .map(|e| if sum > 0.0 { e / sum } else { 0.0 })
            .collect()
    }

    fn weigh(&self, mut ids: Vec<(u32, f32)>) -> Vector {
        for (id, w) in ids.iter_mut() {
            *w *= self.idf.get(*id as usize).copied().unwrap_or(0.0);
        }
        let norm = ids.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, w) in ids.iter_mut() {
                *w /= norm;
            }
        }
        ids.sort_by_key(|(id, _)| *id);
        ids
    }

    /// The vector of an utterance; features no example has are left out.
    fn vectorize(&self, features: &[Feature]) -> Vector {
        let mut ids: Vec<(u32, f32)> = Vec::new();
        for (name, weight) in features {
            if let Some(&id) = self.features.get(name) {
                match ids.iter_mut().find(|(i, _)| *i == id) {
                    Some((_, w)) => *w = w.max(*weight),
                    None => ids.push((id, *weight)),
                }
            }
        }
        self.weigh(ids)
    }

    /// Every label's score, best first (ties by label order): the mean similarity to its
    /// nearest examples blended with its Naive Bayes probability.
    pub fn classify(&self, features: &[Feature]) -> Vec<LabelScore> {
        let query = self.vectorize(features);
        let bayes = if query.is_empty() {
            vec![0.0; self.labels.len()]
        } else {
            self.naive_bayes(&query)
        };
        let mut similarity = vec![0.0f32; self.examples.len()];
        for (id, qw) in &query {
            for (example, w) in self.postings.get(*id as usize).into_iter().flatten() {
                similarity[*example as usize] += qw * w;
            }
        }
        // Each label's nearest examples, best first (ties by example order), kept as they
        // come: no sort of every example.
        let mut nearest: Vec<[(f32, usize); NEAREST]> =
            vec![[(f32::NEG_INFINITY, usize::MAX); NEAREST]; self.labels.len()];
        let mut counts = vec![0usize; self.labels.len()];
        for (i, (example, sim)) in self.examples.iter().zip(similarity).enumerate() {
            let (Some(top), Some(count)) = (
                nearest.get_mut(example.label),
                counts.get_mut(example.label),
            ) else {
                continue;
            };
            *count += 1;
            if let Some(at) = top.iter().position(|(s, _)| sim > *s) {
                top[at..].rotate_right(1);
                top[at] = (sim, i);
            }
        }
        let mut scores: Vec<(usize, LabelScore)> = nearest
            .into_iter()
            .zip(counts)
            .enumerate()
            .map(|(label, (top, count))| {
                let take = count.clamp(1, NEAREST);
                let mean =
                    top.iter().take(take).map(|(s, _)| s.max(0.0)).sum::<f32>() / take as f32;
                let score = NEAREST_SHARE * mean
                    + (1.0 - NEAREST_SHARE) * bayes.get(label).copied().unwrap_or(0.0);
                (
                    label,
                    LabelScore {
                        label: self.labels[label].clone(),
                        score,
                        nearest: top
                            .first()
                            .map_or(0, |(_, i)| if *i == usize::MAX { 0 } else { *i }),
                    },
                )
            })
            .collect();
        scores.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
        scores.into_iter().map(|(_, s)| s).collect()
    }

    /// Pairs of examples of different labels at least `min_similarity` alike: an author's
    /// slip (the same words under two flows) that makes both flows guess.
    pub fn collisions(&self, min_similarity: f32) -> Vec<Collision> {
        let mut out = Vec::new();
        for (i, a) in self.examples.iter().enumerate() {
            for (j, b) in self.examples.iter().enumerate().skip(i + 1) {
                if a.label == b.label {
                    continue;
                }
                let similarity = dot(&a.vector, &b.vector);
                if similarity >= min_similarity {
                    out.push(Collision {
                        first: i,
                        second: j,
                        similarity,
                    });
                }
            }
        }
        out
    }

    /// Where example `index` is written.
    pub fn example_origin(&self, index: usize) -> &str {
        self.origins.get(index).map(String::as_str).unwrap_or("")
    }

    /// The label of example `index`.
    pub fn example_label(&self, index: usize) -> &str {
        self.examples
            .get(index)
            .and_then(|e| self.labels.get(e.label))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The text of example `index`, for explaining a decision.
    pub fn example_text(&self, index: usize) -> &str {
        self.texts.get(index).map(String::as_str).unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }
}

fn dot(a: &Vector, b: &Vector) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

/// A light stem: plural and verb endings off, a final "e" and a doubled consonant folded, so
/// "cancelling", "cancelled", "cancels" and "cancel" meet, as do "move", "moving", "moved".
pub fn stem(word: &str) -> String {
    let mut base = word;
    for suffix in ["ing", "ed", "s"] {
        if let Some(b) = word.strip_suffix(suffix)
            && b.len() >= 3
            && !(suffix == "s" && (b.ends_with('s') || b.ends_with('u')))
        {
            base = b;
            break;
        }
    }
    let mut out = base.to_string();
    if out.len() > 3 && out.ends_with('e') {
        out.pop();
    }
    let bytes = out.as_bytes();
    if out.len() > 4
        && bytes[bytes.len() - 1] == bytes[bytes.len() - 2]
        && !matches!(bytes[bytes.len() - 1], b'a' | b'e' | b'i' | b'o' | b'u')
    {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Feature> {
        text.split(' ')
            .map(|w| (format!("w:{}", stem(w)), 1.0))
            .collect()
    }

    fn example(label: &str, text: &str) -> TrainingExample {
        TrainingExample {
            label: label.into(),
            text: text.into(),
            origin: String::new(),
            features: words(text),
        }
    }

    #[test]
    fn nearest_examples_decide() {
        let c = Classifier::new(vec![
            example("cancel", "please cancel my visit"),
            example("cancel", "we dont need the technician"),
            example("book", "i need a technician to come out"),
            example("book", "can you send someone"),
        ]);
        let top = &c.classify(&words("cancelling the visit"))[0];
        assert_eq!(top.label, "cancel");
        assert!(top.score > 0.0);
        let top = &c.classify(&words("send a technician out"))[0];
        assert_eq!(top.label, "book");
        assert!(c.classify(&words("zebra"))[0].score == 0.0);
    }

    #[test]
    fn collisions_are_near_copies_under_two_labels() {
        let c = Classifier::new(vec![
            example("cancel", "please cancel my visit"),
            example("book", "please cancel my visit"),
            example("book", "can you send someone"),
        ]);
        let found = c.collisions(0.9);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].first, found[0].second), (0, 1));
        assert!(c.collisions(1.01).is_empty());
    }

    #[test]
    fn stems() {
        for (a, b) in [
            ("cancelling", "cancel"),
            ("cancelled", "cancels"),
            ("moving", "moves"),
            ("moved", "move"),
            ("stopped", "stop"),
            ("visits", "visit"),
            ("installing", "install"),
        ] {
            assert_eq!(stem(a), stem(b), "{a} / {b}");
        }
        assert_eq!(stem("is"), "is");
        assert_eq!(stem("call"), "call");
    }
}
