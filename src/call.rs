//! Carrying one call: engine turns, tool calls between them, and the call record in storage.
//!
//! Every front end (terminal chat, caller scripts, Twilio) drives calls through [`CallDriver`],
//! so they all behave the same.

use std::sync::Arc;
use std::time::Duration;

use frontdesk_engine::business::WebhookEvent;
use frontdesk_engine::{CallInfo, Engine, Input, Output, RuntimeLine, Session};
use frontdesk_engine::{KnowledgeAnswer, ModelRequest};
use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::call_event::{Event, ModelUse};
use crate::llm::Model;
use crate::logging::mask_phone;
use crate::outcome_counts::OutcomeCounts;
use crate::recorder::Recorder;
use crate::storage::{Speaker, Storage};
use crate::tools::Tools;

/// A call in progress: the engine session plus our record keeping. Serializable, so webhook
/// front ends can keep it in a session store between turns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LiveCall {
    pub session: Session,
    /// Next turn number in the call record.
    seq: u32,
    /// Caller inputs answered so far (webhook front ends number their requests with it).
    #[serde(default)]
    pub answered: u32,
    /// What the last request was answered with, so a retried webhook gets the same answer
    /// without the turn running twice.
    #[serde(default)]
    pub last_reply: Option<Reply>,
}

/// The answer to one request of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Which input it answered (0: the call's start).
    pub answered: u32,
    pub body: String,
}

/// What the agent did in one turn.
#[derive(Debug, Default)]
pub struct AgentTurn {
    /// Lines spoken, with whether the caller may talk over them.
    pub said: Vec<(String, bool)>,
    /// A knowledge answer the model is still phrasing (only from
    /// [`CallDriver::input_streaming`]): its sentences go before `said[at]`.
    pub answer: Option<StreamedAnswer>,
    /// What kind of answer the agent now waits for, with recognition hints.
    pub listen: Option<(Option<frontdesk_engine::SlotType>, Vec<String>)>,
    pub transfer_to: Option<String>,
    pub hangup: bool,
    pub tool_calls: Vec<String>,
    /// With a transfer: one sentence for the person answering, before they are connected
    /// (`prompts/transfer/whisper.j2`).
    pub whisper: Option<String>,
}

/// Sentences of a knowledge answer, each as soon as the model has written and the guard has
/// passed it. The channel closes when the answer is complete; dropping it cancels the answer.
#[derive(Debug)]
pub struct StreamedAnswer {
    /// Where in the turn's lines the answer belongs.
    pub at: usize,
    pub interruptible: bool,
    pub sentences: mpsc::Receiver<String>,
}

/// Whether a turn waits for a model's whole answer or hands it over sentence by sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Whole,
    Streamed,
}

impl LiveCall {
    /// The stored answer to input `answered`, when the request is a retry of one already
    /// answered.
    pub fn retried(&self, answered: u32) -> Option<&str> {
        self.last_reply
            .as_ref()
            .filter(|reply| reply.answered == answered)
            .map(|reply| reply.body.as_str())
    }

    /// Remembers the answer to input `answered`.
    pub fn keep_reply(&mut self, answered: u32, body: &str) {
        self.last_reply = Some(Reply {
            answered,
            body: body.to_string(),
        });
    }

    /// The slot the agent is asking for right now, if any.
    pub fn asked_slot(&self, engine: &Engine) -> Option<String> {
        let s = &self.session;
        let flow = engine.flow(s.flow.as_deref()?)?;
        let state = flow.states.get(s.state.as_deref()?)?;
        state.collect.as_ref().map(|c| c.value.clone())
    }
}

impl AgentTurn {
    pub fn ended(&self) -> bool {
        self.hangup || self.transfer_to.is_some()
    }
}

#[derive(Clone)]
pub struct CallDriver {
    pub engine: Arc<Engine>,
    pub storage: Arc<dyn Storage>,
    pub tools: Tools,
    /// Writes the call record in the background, in order.
    pub recorder: Recorder,
    /// A language model for answers the rules could not read and for phrasing knowledge
    /// answers, when one is configured.
    pub model: Option<Arc<Model>>,
    /// Time the tool calls of one turn may take together. Twilio hangs up on a webhook after
    /// 15 s, and a caller in stream mode hears silence: a database that does not answer in
    /// time fails the tool, and the flow takes its failure path.
    pub tool_deadline: Duration,
    /// Calls ended, by outcome.
    pub outcomes: OutcomeCounts,
    /// Texts around calls (confirmations, alerts, callbacks), when the server sends texts.
    pub texts: Option<crate::outbox::Texts>,
    /// Other systems told about emergencies and ended calls, when webhooks are configured.
    pub webhooks: Option<crate::outbox::Webhooks>,
}

/// See [`CallDriver::tool_deadline`].
pub const TOOL_DEADLINE: Duration = Duration::from_secs(3);

/// Tool calls one turn may make before the driver stops it (a flow bug, not a caller's doing).
const MAX_TOOL_CALLS_PER_TURN: usize = 16;

impl CallDriver {
    /// Needs a Tokio runtime: the call record is written by a task it starts.
    pub fn new(engine: Arc<Engine>, storage: Arc<dyn Storage>) -> CallDriver {
        let business = Arc::new(engine.business().clone());
        CallDriver {
            tools: Tools::new(storage.clone(), business),
            recorder: Recorder::start(storage.clone()),
            model: None,
            engine,
            storage,
            tool_deadline: TOOL_DEADLINE,
            outcomes: OutcomeCounts::default(),
            texts: None,
            webhooks: None,
        }
    }

    /// Gives the tool calls of each turn `deadline` in total (see
    /// [`CallDriver::tool_deadline`]).
    pub fn with_tool_deadline(mut self, deadline: Duration) -> CallDriver {
        self.tool_deadline = deadline;
        self
    }

    /// Writes the call record through `recorder` (one with a spill file, say) instead of the
    /// one [`CallDriver::new`] started.
    pub fn with_recorder(mut self, recorder: Recorder) -> CallDriver {
        self.recorder = recorder;
        self
    }

    /// Queues a confirmation text after every change to a visit.
    pub fn with_texts(mut self, texts: crate::outbox::Texts) -> CallDriver {
        self.tools = self.tools.with_texts(texts.clone());
        self.texts = Some(texts);
        self
    }

    /// Tells other systems about every change to a visit, every emergency and every ended call.
    pub fn with_webhooks(mut self, webhooks: crate::outbox::Webhooks) -> CallDriver {
        self.tools = self.tools.with_webhooks(webhooks.clone());
        self.webhooks = Some(webhooks);
        self
    }

    /// Lets the engine ask `model`, when there is one, for slot values the rules missed and
    /// for knowledge answers in its own words.
    pub fn with_model(mut self, model: Option<Arc<Model>>) -> CallDriver {
        self.model = model;
        self
    }

    /// Waits until the call record holds everything recorded so far.
    pub async fn flush(&self) {
        self.recorder.flush().await;
    }

    /// Answers the call: records it and runs the greeting.
    pub async fn start(&self, mut call: CallInfo, now: DateTime) -> (LiveCall, AgentTurn) {
        if call.customer.is_none() {
            call.customer = self.known_customer(&call).await;
        }
        let session = self.engine.start(call);
        self.open(session, now).await
    }

    /// What the business knows of the caller by caller ID (`name`, `first_name`, `vehicles`
    /// latest first, each with `year`, `make`, `model` and `text`): `call.customer` in
    /// templates. A lookup that fails leaves the caller unknown rather than stop the call.
    async fn known_customer(&self, call: &CallInfo) -> Option<serde_json::Value> {
        let caller = call.caller.as_deref()?;
        let found = async {
            let Some(customer) = self.storage.find_customer(caller).await? else {
                return Ok(None);
            };
            let vehicles = self.storage.customer_vehicles(customer.id).await?;
            Ok::<_, crate::storage::StorageError>(Some((customer, vehicles)))
        }
        .await;
        match found {
            Ok(Some((customer, vehicles))) => Some(json!({
                "name": customer.name,
                "first_name": customer.name.split_whitespace().next().unwrap_or_default(),
                "vehicles": vehicles.iter().map(|v| json!({
                    "year": v.year, "make": v.make, "model": v.model, "text": v.label(),
                })).collect::<Vec<_>>(),
            })),
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(call_id = %call.id, %error, "could not look up the caller");
                None
            }
        }
    }

    /// Opens a call the business placed for a purpose: records it and runs `flow` (with
    /// `vars`) instead of the greeting. Fails only for a flow that does not exist.
    pub async fn start_in(
        &self,
        call: CallInfo,
        flow: &str,
        vars: std::collections::BTreeMap<String, serde_json::Value>,
        now: DateTime,
    ) -> Result<(LiveCall, AgentTurn), frontdesk_engine::StepError> {
        let session = self.engine.start_in(call, flow, vars)?;
        Ok(self.open(session, now).await)
    }

    async fn open(&self, session: Session, now: DateTime) -> (LiveCall, AgentTurn) {
        let call = &session.call;
        let caller = call.caller.clone().unwrap_or_default();
        let called = call.called.clone().unwrap_or_default();
        tracing::info!(call_id = %call.id, caller = %mask_phone(&caller), "call started");
        self.recorder
            .start_call(&call.id, &caller, &called, now)
            .await;
        let mut live = LiveCall {
            session,
            seq: 0,
            answered: 0,
            last_reply: None,
        };
        live.session.set_model_available(self.model.is_some());
        let turn = self.input(&mut live, Input::Start, now).await;
        (live, turn)
    }

    /// One caller input, with every tool call it leads to. A model's knowledge answer is
    /// complete in the lines returned.
    pub async fn input(&self, live: &mut LiveCall, input: Input, now: DateTime) -> AgentTurn {
        self.turn(live, input, now, Delivery::Whole).await
    }

    /// Like [`CallDriver::input`], but a model's knowledge answer comes as
    /// [`AgentTurn::answer`], sentence by sentence, so speech can start with the first one.
    pub async fn input_streaming(
        &self,
        live: &mut LiveCall,
        input: Input,
        now: DateTime,
    ) -> AgentTurn {
        self.turn(live, input, now, Delivery::Streamed).await
    }

    async fn turn(
        &self,
        live: &mut LiveCall,
        input: Input,
        now: DateTime,
        delivery: Delivery,
    ) -> AgentTurn {
        let call_id = live.session.call.id.clone();
        let began = Instant::now();
        let answers_caller = matches!(
            input,
            Input::Said { .. } | Input::Digits { .. } | Input::NoInput
        );
        match &input {
            Input::Said { text, .. } => self.record(live, Speaker::Caller, text).await,
            Input::Digits { digits } => {
                self.record(live, Speaker::Caller, &format!("[keypad {digits}]"))
                    .await
            }
            Input::NoInput => self.record(live, Speaker::Caller, "[silence]").await,
            Input::Interrupted { heard_so_far } => {
                let barge_in = Event::BargeIn {
                    heard_so_far: heard_so_far.clone(),
                };
                self.event(&call_id, &barge_in).await
            }
            _ => {}
        }
        let mut turn = AgentTurn::default();
        // Where a streamed answer will get its turn number in the call record.
        let mut answer_seq: Option<oneshot::Sender<u32>> = None;
        let mut next = Some(input);
        let mut tool_calls = 0;
        // Starts at the turn's first tool call: model calls before it have their own limits.
        let mut tools_due: Option<Instant> = None;
        while let Some(input) = next.take() {
            let outputs = match self.engine.step(&mut live.session, input, now) {
                Ok(outputs) => outputs,
                Err(error) => {
                    tracing::error!(call_id = %call_id, %error, "engine turn failed; handing the call to a person");
                    self.fallback(live, &mut turn, now);
                    break;
                }
            };
            for output in outputs {
                match output {
                    Output::Say {
                        text,
                        interruptible,
                    } => turn.said.push((text, interruptible)),
                    Output::Listen { expecting, hints } => turn.listen = Some((expecting, hints)),
                    Output::CallTool { name, args } => {
                        tool_calls += 1;
                        if tool_calls > MAX_TOOL_CALLS_PER_TURN {
                            tracing::error!(call_id = %call_id, tool = %name, "too many tool calls in one turn");
                            self.fallback(live, &mut turn, now);
                            break;
                        }
                        let due =
                            *tools_due.get_or_insert_with(|| Instant::now() + self.tool_deadline);
                        let value = self.run_tool(&call_id, &name, &args, now, due).await;
                        let event = Event::Tool {
                            tool: name.clone(),
                            args,
                            result: value.clone(),
                        };
                        self.event(&call_id, &event).await;
                        turn.tool_calls.push(name);
                        next = Some(Input::ToolResult { value });
                    }
                    Output::Transfer { to, reason } => {
                        turn.whisper = self.whisper(&live.session, &reason);
                        turn.transfer_to = Some(to);
                    }
                    Output::Hangup => turn.hangup = true,
                    Output::Event { kind, detail } => {
                        self.event(&call_id, &Event::Engine { kind, detail }).await
                    }
                    Output::Extract { request } => {
                        next = Some(self.extract(&call_id, &request).await);
                    }
                    Output::Answer { answer } => {
                        let streamed = delivery == Delivery::Streamed && turn.answer.is_none();
                        if let Some(seq) = self.answer(live, answer, &mut turn, streamed).await {
                            answer_seq = Some(seq);
                        }
                    }
                }
            }
        }
        let answer_at = turn.answer.as_ref().map(|a| a.at);
        for (i, (text, _)) in turn.said.iter().enumerate() {
            if answer_at == Some(i) {
                number_answer(live, &mut answer_seq);
            }
            self.record(live, Speaker::Agent, text).await;
        }
        if answer_at.is_some() {
            number_answer(live, &mut answer_seq);
        }
        if answers_caller && (!turn.said.is_empty() || turn.answer.is_some()) {
            // How long the caller waited on Frontdesk for this answer (engine, tools, model).
            let latency = Event::TurnLatency {
                seq: live.seq,
                ms: u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX),
            };
            self.event(&call_id, &latency).await;
        }
        if turn.ended() {
            self.finish(live, now).await;
        }
        turn
    }

    /// Says a knowledge answer: the engine's passage without a model; with one, the model's
    /// grounded sentences, collected here or, when `streamed`, handed over as they come. A
    /// streamed answer returns where to send its turn number in the record.
    async fn answer(
        &self,
        live: &LiveCall,
        answer: KnowledgeAnswer,
        turn: &mut AgentTurn,
        streamed: bool,
    ) -> Option<oneshot::Sender<u32>> {
        let Some(model) = self.model.clone() else {
            turn.said.push((answer.text, answer.interruptible));
            return None;
        };
        let call_id = live.session.call.id.clone();
        let state = record_state(&live.session);
        let interruptible = answer.interruptible;
        let (tx, mut sentences) = mpsc::channel(4);
        let (seq_tx, seq_rx) = oneshot::channel::<u32>();
        let recorder = self.recorder.clone();
        let task = tokio::spawn(async move {
            let report = model.answers.speak(&answer, tx).await;
            if let Some(error) = &report.error {
                tracing::warn!(call_id, error, "answer model failed; reading the passage");
            }
            let spoken = report.spoken.join(" ");
            let answered = Event::Llm(ModelUse::Answer { report });
            recorder.event(&call_id, &answered).await;
            // The answer's own line in the record, once the turn has numbered it.
            if let Ok(seq) = seq_rx.await
                && !spoken.is_empty()
            {
                recorder
                    .turn(&call_id, seq, Speaker::Agent, &spoken, state)
                    .await;
            }
        });
        if streamed {
            turn.answer = Some(StreamedAnswer {
                at: turn.said.len(),
                interruptible,
                sentences,
            });
            return Some(seq_tx);
        }
        drop(seq_tx);
        let mut spoken = Vec::new();
        while let Some(sentence) = sentences.recv().await {
            spoken.push(sentence);
        }
        // One line, as the streamed answer is one line in the record.
        if !spoken.is_empty() {
            turn.said.push((spoken.join(" "), interruptible));
        }
        // The answer's record comes before anything later in the call.
        let _ = task.await;
        None
    }

    /// Asks the model; on any failure the engine gets no values and goes on by its rules.
    async fn extract(&self, call_id: &str, request: &ModelRequest) -> Input {
        let Some(model) = &self.model else {
            return Input::Extracted {
                values: Default::default(),
            };
        };
        let done = model.slots.extract(request).await;
        if let Some(error) = &done.error {
            tracing::warn!(call_id, error, "slot model failed; going on by the rules");
        }
        let used = Event::Llm(ModelUse::ExtractSlots {
            stats: done.stats,
            error: done.error,
            values: done.values.clone(),
        });
        self.event(call_id, &used).await;
        Input::Extracted {
            values: done.values,
        }
    }

    /// Runs a tool; one that has not answered by `due` fails with reason `timeout`, and the
    /// call record says which tool and how long it was given.
    async fn run_tool(
        &self,
        call_id: &str,
        name: &str,
        args: &serde_json::Value,
        now: DateTime,
        due: Instant,
    ) -> serde_json::Value {
        let run = self.tools.run(call_id, name, args, now);
        let began = Instant::now();
        match tokio::time::timeout_at(due, run).await {
            Ok(value) => {
                let failed = value.get("error").is_some_and(|e| !e.is_null());
                crate::telemetry::provider("database", "tool", began.elapsed(), failed);
                value
            }
            Err(_) => {
                let deadline_ms = self.tool_deadline.as_millis() as u64;
                tracing::error!(
                    call_id,
                    tool = name,
                    deadline_ms,
                    "the database did not answer in time; the flow takes its failure path"
                );
                let timeout = Event::DependencyTimeout {
                    dependency: "database".into(),
                    tool: name.into(),
                    deadline_ms,
                };
                self.event(call_id, &timeout).await;
                crate::tools::failed("timeout", None)
            }
        }
    }

    /// The caller hung up.
    pub async fn hang_up(&self, live: &mut LiveCall, now: DateTime) {
        if live.session.ended {
            return;
        }
        let _ = self.engine.step(&mut live.session, Input::Hangup, now);
        self.finish(live, now).await;
    }

    /// When the engine cannot go on, a person takes over: the caller never hears an error.
    fn fallback(&self, live: &mut LiveCall, turn: &mut AgentTurn, now: DateTime) {
        let to = self.engine.business().phones.at(now).human;
        match self.engine.runtime_line(RuntimeLine::InternalError) {
            Ok(text) => turn.said.push((text, true)),
            Err(error) => tracing::error!(%error, "could not render the internal-error line"),
        }
        live.session.turn_failed(&to);
        turn.transfer_to = Some(to);
    }

    /// Texts the on-call numbers in force about an emergency, and notes whom.
    async fn alert_emergency(&self, s: &Session, hazard: Option<&str>, said: &str, now: DateTime) {
        let Some(texts) = &self.texts else {
            return;
        };
        let on_call = self.engine.business().phones.at(now).on_call;
        let caller = s.call.caller.as_deref();
        let to = texts
            .alert_emergency(&s.call.id, &on_call, caller, hazard, said)
            .await;
        if !to.is_empty() {
            self.event(&s.call.id, &Event::EmergencyAlert { to }).await;
        }
    }

    /// Texts the on-call numbers about a call whose urgency level asks for it (an emergency
    /// was texted already).
    async fn alert_urgent(&self, s: &Session, said: &str, now: DateTime) {
        let business = self.engine.business();
        let Some(level) = s
            .urgency
            .as_deref()
            .and_then(|u| business.urgency_level(u))
            .filter(|u| u.alert_on_call)
        else {
            return;
        };
        let Some(texts) = &self.texts else {
            return;
        };
        let on_call = business.phones.at(now).on_call;
        let vars = json!({
            "level": level.level,
            "caller": s.call.caller,
            "said": said,
            "appointment": s.result.get("appointment"),
        });
        let to = texts.alert_urgent(&s.call.id, &on_call, &vars).await;
        if !to.is_empty() {
            self.event(&s.call.id, &Event::EmergencyAlert { to }).await;
        }
    }

    async fn finish(&self, live: &LiveCall, now: DateTime) {
        let s = &live.session;
        let outcome = s.outcome();
        tracing::info!(call_id = %s.call.id, outcome = outcome.as_str(), "call ended");
        self.outcomes.add(outcome.as_str());
        let summary = self.summarize(s, outcome);
        if let Some(summary) = &summary {
            let text = summary.clone();
            self.event(&s.call.id, &Event::Summary { text }).await;
            if let Some(texts) = &self.texts {
                texts.send_summary(&s.call.id, summary).await;
            }
        }
        let hazard = s.vars.get("hazard").and_then(|h| h.as_str());
        let said = s.heard.join(" ");
        if outcome == frontdesk_engine::Outcome::Emergency {
            self.alert_emergency(s, hazard, &said, now).await;
        } else {
            self.alert_urgent(s, &said, now).await;
        }
        if let Some(webhooks) = &self.webhooks {
            let id = &s.call.id;
            if outcome == frontdesk_engine::Outcome::Emergency {
                let data = json!({ "caller": s.call.caller, "hazard": hazard, "said": said });
                webhooks.notify(WebhookEvent::Emergency, id, id, data).await;
            }
            let data = json!({
                "outcome": outcome.as_str(),
                "caller": s.call.caller,
                "called": s.call.called,
                "turns": s.turns,
                "transfer_to": s.transfer_to,
                "summary": summary,
            });
            webhooks.notify(WebhookEvent::CallEnded, id, id, data).await;
        }
        self.recorder
            .finish_call(&s.call.id, outcome.as_str(), s.transfer_to.as_deref(), now)
            .await;
    }

    /// The sentence the person taking a transfer hears first; none for a business without
    /// `prompts/transfer/whisper.j2`.
    fn whisper(&self, s: &Session, reason: &str) -> Option<String> {
        let vars = serde_json::json!({
            "reason": reason,
            "slots": s.slots,
            "caller": s.call.caller,
            "hazard": s.vars.get("hazard"),
        });
        self.optional_message(&s.call.id, "transfer/whisper", &vars)
    }

    /// The call in one line (`prompts/summary/call.j2`), from its outcome and what it settled;
    /// none for a business without the prompt.
    fn summarize(&self, s: &Session, outcome: frontdesk_engine::Outcome) -> Option<String> {
        let vars = serde_json::json!({
            "outcome": outcome.as_str(),
            "caller": s.call.caller,
            "said": s.heard.join(" "),
            "hazard": s.vars.get("hazard"),
            "result": s.result,
        });
        self.optional_message(&s.call.id, "summary/call", &vars)
    }

    /// `prompts/{prompt}.j2` rendered with `vars`; none for a business without the prompt,
    /// or (logged) when it cannot be rendered.
    fn optional_message(
        &self,
        call_id: &str,
        prompt: &str,
        vars: &serde_json::Value,
    ) -> Option<String> {
        if !self.engine.prompt_names().iter().any(|n| n == prompt) {
            return None;
        }
        match self.engine.render_message(prompt, vars) {
            Ok(text) => Some(text),
            Err(error) => {
                tracing::error!(call_id, prompt, %error, "could not write a message");
                None
            }
        }
    }

    async fn record(&self, live: &mut LiveCall, speaker: Speaker, text: &str) {
        live.seq += 1;
        let state = record_state(&live.session);
        self.recorder
            .turn(&live.session.call.id, live.seq, speaker, text, state)
            .await;
    }

    async fn event(&self, call_id: &str, event: &Event) {
        crate::telemetry::event(event);
        self.recorder.event(call_id, event).await;
    }
}

/// "flow/state" for the call record.
fn record_state(s: &Session) -> Option<String> {
    s.flow
        .as_ref()
        .zip(s.state.as_ref())
        .map(|(f, st)| format!("{f}/{st}"))
}

/// Gives a streamed answer the next turn number in the record.
fn number_answer(live: &mut LiveCall, seq: &mut Option<oneshot::Sender<u32>>) {
    if let Some(seq) = seq.take() {
        live.seq += 1;
        let _ = seq.send(live.seq);
    }
}
