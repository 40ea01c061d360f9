//! Free-form answers phrased by a language model from the business's own knowledge. The
//! engine picks the passages and says what to read without a model; the model only rewords,
//! sentence by sentence, and every sentence is checked against the passages before it is
//! spoken. Anything that goes wrong before the first sentence means the passage is read.

use frontdesk_engine::KnowledgeAnswer;
use frontdesk_engine::business::Business;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::grounding::Grounds;
use super::prompt::PromptTemplate;
use super::{AnswerRequest, CallStats, ChatMessage, LlmClient};

/// The system prompt, a template in the project's `prompts/` folder.
pub const PROMPT: &str = "llm/answer_question.j2";

/// Sentences spoken at most: the prompt asks for one or two.
const MAX_SENTENCES: usize = 3;

pub struct AnswerModel {
    client: LlmClient,
    prompt: PromptTemplate,
    business: Value,
}

/// How one answer went, for the call record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnswerReport {
    /// What was handed over to be spoken, in order.
    pub spoken: Vec<String>,
    /// The engine's passage was read instead of the model's words.
    pub fell_back: bool,
    /// A sentence refused as not grounded in the passages, and why.
    pub refused: Option<(String, String)>,
    /// The listener went away (the caller talked over the answer).
    pub cancelled: bool,
    pub stats: Option<CallStats>,
    pub error: Option<String>,
}

impl AnswerModel {
    /// `prompt` is the text of `prompts/llm/answer_question.j2`.
    pub fn new(
        client: LlmClient,
        prompt: &str,
        business: &Business,
    ) -> Result<AnswerModel, String> {
        Ok(AnswerModel {
            client,
            prompt: PromptTemplate::new(PROMPT, prompt)?,
            business: json!({
                "name": business.name,
                "trade": business.trade,
                "agent_name": business.persona.agent_name,
            }),
        })
    }

    /// Speaks an answer into `sentences`, one sentence at a time as the model writes them.
    /// Falls back to `answer.text` when the model fails, is too slow or is refused before its
    /// first sentence. Stops early when `sentences` is closed.
    pub async fn speak(
        &self,
        answer: &KnowledgeAnswer,
        sentences: mpsc::Sender<String>,
    ) -> AnswerReport {
        let mut report = AnswerReport::default();
        // The waits and the token cap are the configured budgets (the first sentence's, then
        // the whole answer's).
        let budgets = self.client.config().budgets;
        let until = Instant::now() + budgets.answer;
        match self.render(answer) {
            Ok(system) => {
                let request = AnswerRequest {
                    system,
                    messages: vec![ChatMessage::user(answer.question.clone())],
                    max_tokens: Some(budgets.answer_max_tokens),
                    temperature: Some(0.3),
                    deadline: Some(Instant::now() + budgets.first_sentence),
                };
                let grounds = Grounds::new(answer.passages.iter().map(|p| p.text.as_str()));
                let opened = tokio::select! {
                    () = sentences.closed() => None,
                    opened = self.client.answer_stream(request) => Some(opened),
                };
                match opened {
                    None => report.cancelled = true,
                    Some(Ok(mut stream)) => {
                        let limit = (until, budgets.answer);
                        read(&mut stream, &grounds, &sentences, limit, &mut report).await;
                        report.stats = stream.stats().await;
                    }
                    Some(Err(error)) => report.error = Some(error.describe()),
                }
            }
            Err(error) => report.error = Some(error),
        }
        if report.spoken.is_empty() && !report.cancelled {
            report.fell_back = true;
            if sentences.send(answer.text.clone()).await.is_ok() {
                report.spoken.push(answer.text.clone());
            } else {
                report.cancelled = true;
            }
        }
        report
    }

    fn render(&self, answer: &KnowledgeAnswer) -> Result<String, String> {
        self.prompt.render(&json!({
            "business": self.business,
            "question": answer.question,
            "passages": answer.passages,
        }))
    }
}

/// Passes grounded sentences on until the answer ends, fails, runs long or is refused.
async fn read(
    stream: &mut super::SentenceStream,
    grounds: &Grounds,
    sentences: &mpsc::Sender<String>,
    (until, budget): (Instant, std::time::Duration),
    report: &mut AnswerReport,
) {
    while report.spoken.len() < MAX_SENTENCES {
        // The listener may go away while the model is still writing: stop at once.
        let next = tokio::select! {
            () = sentences.closed() => {
                report.cancelled = true;
                return;
            }
            next = tokio::time::timeout_at(until, stream.next_sentence()) => next,
        };
        let next = match next {
            Ok(Some(Ok(sentence))) => sentence,
            Ok(Some(Err(error))) => {
                report.error = Some(error.describe());
                return;
            }
            Ok(None) => return,
            Err(_) => {
                report.error = Some(format!("the answer took longer than {budget:?}"));
                return;
            }
        };
        if let Err(why) = grounds.check(&next) {
            tracing::warn!(sentence = %next, %why, "dropping an answer sentence not grounded in the knowledge");
            report.refused = Some((next, why.to_string()));
            return;
        }
        if sentences.send(next.clone()).await.is_err() {
            report.cancelled = true;
            return;
        }
        report.spoken.push(next);
    }
}
