//! `frontdesk-phone` (`cargo phone`): a local softphone that plays Twilio against a running
//! `frontdesk serve`. With `--calls`/`--concurrency` it is a load generator with a latency
//! summary.

mod answering;
mod summary;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use summary::Summary;
use tokio::sync::Semaphore;

use frontdesk_engine::script::{CallerAction, Script, ScriptCursor};
use frontdesk_testkit::fake_deepgram::{FakeDeepgram, FakeDeepgramOptions};
use frontdesk_testkit::fake_openai::{FakeOpenAi, FakeOpenAiOptions, Reply};
use frontdesk_testkit::fake_twilio_rest::FakeTwilioRest;
use frontdesk_testkit::phone::{
    BargeIn, Caller, CallerVoice, PhoneEnding, PhoneLine, PhoneReport, Speaker, StreamKit,
    gather_call, http_client, new_call_sid, stream_call,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PhoneMode {
    Gather,
    Stream,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Voice {
    Tone,
    Espeak,
}

/// Calls a running `frontdesk serve` as Twilio would.
#[derive(Debug, Parser)]
#[command(name = "frontdesk-phone", version)]
pub struct CallArgs {
    /// The server's public URL (as given to `serve --public-url`). Several (comma-separated,
    /// or the flag repeated): a load run places its calls on them in turn, as a load balancer
    /// spreads calls over replicas.
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:8080")]
    server: Vec<String>,
    /// Must match the server's mode.
    #[arg(long, value_enum, default_value_t = PhoneMode::Gather)]
    mode: PhoneMode,
    /// Caller scripts to play (cycled through for --calls); several after one flag work too
    /// (`--script tests/transcripts/*.yaml`). Without one, type the caller's lines.
    #[arg(long, num_args = 1..)]
    script: Vec<PathBuf>,
    /// Calls to place in total.
    #[arg(long, default_value_t = 1)]
    calls: usize,
    /// Calls in progress at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Calls started per minute at most, evenly spaced (a simulated day at a chosen pace);
    /// without it, each call starts as soon as --concurrency allows.
    #[arg(long)]
    rate: Option<f64>,
    /// The same auth token the server checks signatures with (not needed against a server
    /// started with --insecure-no-signatures).
    #[arg(
        long,
        env = "TWILIO_AUTH_TOKEN",
        hide_env_values = true,
        default_value = ""
    )]
    auth_token: String,
    #[arg(
        long,
        env = "TWILIO_ACCOUNT_SID",
        default_value = "AC00000000000000000000000000000000"
    )]
    account_sid: String,
    /// Caller ID (overridden by a script's caller_id).
    #[arg(long, default_value = "+12145550123")]
    from: String,
    /// The business number dialled.
    #[arg(long, default_value = "+12145550100")]
    to: String,
    /// Stream mode: how the caller's words become audio.
    #[arg(long, value_enum, default_value_t = Voice::Espeak)]
    voice: Voice,
    /// Stream mode: where to run the fake Deepgram the server must use
    /// (serve --deepgram-stt-url ws://ADDR/v1/listen).
    #[arg(long, default_value = "127.0.0.1:8091")]
    fake_deepgram: SocketAddr,
    /// Stream mode: where to run the fake Twilio REST API the server must use
    /// (serve --twilio-api-url http://ADDR).
    #[arg(long, default_value = "127.0.0.1:8092")]
    fake_twilio_api: SocketAddr,
    /// Longest a single call may run, in seconds.
    #[arg(long, default_value_t = 300)]
    limit: u64,
    /// Stream mode: talk over the greeting this many milliseconds into it (measures barge-in).
    #[arg(long)]
    barge_in: Option<u64>,
    /// Also run a fake OpenAI-compatible model here (serve --llm-url http://ADDR/v1): it
    /// finds no slot values and streams a two-sentence answer to knowledge questions.
    #[arg(long)]
    fake_llm: Option<SocketAddr>,
    /// How fast the fake model streams its answers.
    #[arg(long, default_value_t = 40.0)]
    fake_llm_tokens_per_second: f32,
    /// Instead of calling, answer the calls the server places through the fake Twilio API
    /// (reminder calls), as a person (type the lines, or --script) or an answering machine.
    /// --calls says how many; the phone waits up to --limit seconds for each.
    #[arg(long, value_enum)]
    answer_calls: Option<answering::Answerer>,
}

/// What the fake model says to every knowledge question: two sentences that state nothing
/// the guard would refuse, about as long as a real answer.
const FAKE_LLM_ANSWER: &str = "Good question, and yes, that's something we help with. Someone on our team can tell you more about it.";

fn main() -> ExitCode {
    match run(CallArgs::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// A caller script from its file, errors with the file's name and the position in it.
fn read_script(file: &std::path::Path) -> Result<Script> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    Script::from_yaml(&text).map_err(|e| anyhow::anyhow!(e.in_file(&file.display().to_string())))
}

fn run(args: CallArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: CallArgs) -> Result<ExitCode> {
    let scripts = args
        .script
        .iter()
        .map(|file| read_script(file))
        .collect::<Result<Vec<Script>>>()?;
    if scripts.is_empty() && (args.calls > 1 || args.concurrency > 1) {
        bail!("load runs need at least one --script");
    }
    let line = PhoneLine {
        server: args
            .server
            .first()
            .map(|s| s.trim_end_matches('/').to_string())
            .unwrap_or_default(),
        auth_token: args.auth_token.clone(),
        account_sid: args.account_sid.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
    };
    let kit = match args.mode {
        PhoneMode::Gather => gather_fakes(&args).await?,
        PhoneMode::Stream => Some(start_fakes(&args).await?),
    };
    let _model = match args.fake_llm {
        Some(addr) => Some(start_fake_llm(addr, args.fake_llm_tokens_per_second).await?),
        None => None,
    };
    if let Some(who) = args.answer_calls {
        return answer_calls(&args, &line, kit.as_ref(), who, &scripts).await;
    }
    if scripts.is_empty() {
        return interactive(args.mode, &line, kit.as_ref()).await;
    }
    load(&args, line, kit, scripts).await
}

/// Gather mode needs no fakes to call; the fake Twilio API lets the server's texts (and
/// reminder calls) show. A port already taken only means they will not (another phone has
/// it), unless calls are to be answered.
async fn gather_fakes(args: &CallArgs) -> Result<Option<StreamKit>> {
    let rest =
        FakeTwilioRest::start_on(args.fake_twilio_api, &args.account_sid, &args.auth_token).await;
    let rest = match rest {
        Ok(rest) => rest,
        Err(error) if args.answer_calls.is_none() => {
            eprintln!(
                "(fake Twilio API not started on {}: {error}; texts will not show)",
                args.fake_twilio_api
            );
            return Ok(None);
        }
        Err(error) => {
            return Err(error).with_context(|| {
                format!("starting the fake Twilio API on {}", args.fake_twilio_api)
            });
        }
    };
    eprintln!(
        "(fake Twilio API on {}: for texts, start the server with --twilio-api-url {} --twilio-account-sid {})",
        args.fake_twilio_api,
        rest.base_url(),
        args.account_sid,
    );
    Ok(Some(StreamKit {
        deepgram: None,
        rest: Some(Arc::new(rest)),
        voice: CallerVoice::Tone,
        limit: Duration::from_secs(args.limit),
        ms_per_char: 60,
    }))
}

/// `--answer-calls`: answers the next `--calls` calls the server places.
async fn answer_calls(
    args: &CallArgs,
    line: &PhoneLine,
    kit: Option<&StreamKit>,
    who: answering::Answerer,
    scripts: &[Script],
) -> Result<ExitCode> {
    let Some(rest) = kit.and_then(|kit| kit.rest.as_ref()) else {
        bail!("answering calls needs the fake Twilio API");
    };
    let wait = Duration::from_secs(args.limit);
    for answered in 0..args.calls.max(1) {
        let report = match scripts.get(answered % scripts.len().max(1)) {
            Some(script) => {
                let mut cursor = ScriptCursor::new(script);
                let report =
                    answering::answer_next_call(rest, line, who, &mut cursor, answered, wait)
                        .await?;
                print_transcript(&report);
                report
            }
            None => {
                let mut typist = Typist::default();
                let report =
                    answering::answer_next_call(rest, line, who, &mut typist, answered, wait)
                        .await?;
                println!(
                    "(call ended: {}; its record: frontdesk calls show {})",
                    report.ending, report.call_sid
                );
                report
            }
        };
        if matches!(report.ending, PhoneEnding::Failed(_)) {
            return Ok(ExitCode::FAILURE);
        }
    }
    print_texts(kit).await;
    Ok(ExitCode::SUCCESS)
}

async fn start_fake_llm(addr: SocketAddr, tokens_per_second: f32) -> Result<FakeOpenAi> {
    let fake = FakeOpenAi::start(FakeOpenAiOptions {
        bind: Some(addr),
        tokens_per_second: Some(tokens_per_second),
        default_reply: Reply::Json(serde_json::json!({})),
        answer_reply: Some(Reply::Text(FAKE_LLM_ANSWER.into())),
        ..FakeOpenAiOptions::default()
    })
    .await
    .with_context(|| format!("starting the fake model on {addr}"))?;
    eprintln!(
        "(fake model on {addr} at {tokens_per_second} tokens/s: start the server with --llm-url {})",
        fake.base_url()
    );
    Ok(fake)
}

async fn start_fakes(args: &CallArgs) -> Result<StreamKit> {
    let deepgram = FakeDeepgram::start(FakeDeepgramOptions {
        bind: Some(args.fake_deepgram),
        ..FakeDeepgramOptions::default()
    })
    .with_context(|| format!("starting the fake Deepgram on {}", args.fake_deepgram))?;
    let rest = FakeTwilioRest::start_on(args.fake_twilio_api, &args.account_sid, &args.auth_token)
        .await
        .with_context(|| format!("starting the fake Twilio API on {}", args.fake_twilio_api))?;
    eprintln!(
        "(fake Deepgram on {}, fake Twilio API on {}: start the server with\n  frontdesk serve --mode stream --deepgram-stt-url {} --tts deepgram --deepgram-tts-url {} --twilio-api-url {} --twilio-account-sid {})",
        args.fake_deepgram,
        args.fake_twilio_api,
        deepgram.stt_url(),
        deepgram.tts_url(),
        rest.base_url(),
        args.account_sid,
    );
    Ok(StreamKit {
        deepgram: Some(Arc::new(deepgram)),
        rest: Some(Arc::new(rest)),
        voice: match args.voice {
            Voice::Tone => CallerVoice::Tone,
            Voice::Espeak => CallerVoice::Espeak,
        },
        limit: Duration::from_secs(args.limit),
        ms_per_char: 60,
    })
}

/// One call, the caller's lines typed in the terminal.
async fn interactive(
    mode: PhoneMode,
    line: &PhoneLine,
    kit: Option<&StreamKit>,
) -> Result<ExitCode> {
    let http = http_client();
    let call_sid = new_call_sid();
    let mut caller = Typist::default();
    println!(
        "(calling {} as {}, call {call_sid}; empty line = silence, #0 = keypad 0, /hangup to end)",
        line.server, line.from
    );
    let report = match (mode, kit) {
        (PhoneMode::Stream, Some(kit)) => {
            stream_call(&http, line, &mut caller, &call_sid, kit, None).await
        }
        _ => gather_call(&http, line, &mut caller, &call_sid).await,
    };
    let latencies: Vec<String> = report
        .turn_latencies
        .iter()
        .map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0))
        .collect();
    println!(
        "(call ended: {}; turn latencies in ms: {}; its record: frontdesk calls show {call_sid})",
        report.ending,
        latencies.join(", ")
    );
    if let Some(whisper) = &report.whisper {
        println!("(the person answering heard first: {whisper})");
    }
    print_texts(kit).await;
    Ok(if matches!(report.ending, PhoneEnding::Failed(_)) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The caller's lines from the terminal, and the agent's as they come, the first of each turn
/// with how long the agent took to answer. In stream mode the agent's words show when the
/// server speaks through the phone's fake Deepgram (`--tts deepgram`); with espeak only the
/// turn boundary does.
#[derive(Default)]
struct Typist {
    /// How long the agent took to begin the turn now arriving.
    latency: Option<Duration>,
}

impl Caller for Typist {
    fn answered_after(&mut self, latency: Duration) {
        self.latency = Some(latency);
    }

    fn heard(&mut self, text: &str) {
        match self.latency.take() {
            Some(latency) => println!("agent ({:.0} ms): {text}", latency.as_secs_f64() * 1000.0),
            None => println!("agent: {text}"),
        }
    }

    fn next(&mut self, asked_slot: Option<&str>) -> CallerAction {
        match asked_slot {
            Some(slot) => print!("caller ({slot})> "),
            None => print!("caller> "),
        }
        let _ = std::io::stdout().flush();
        let mut text = String::new();
        // Blocking is fine: one call, and a real caller also takes a moment to answer.
        let read = tokio::task::block_in_place(|| std::io::stdin().read_line(&mut text));
        match read {
            Ok(0) | Err(_) => CallerAction::Hangup,
            Ok(_) => {
                let text = text.trim();
                if text == "/hangup" {
                    CallerAction::Hangup
                } else if let Some(digits) = text.strip_prefix('#') {
                    CallerAction::Dtmf(digits.to_string())
                } else if text.is_empty() {
                    CallerAction::Silence
                } else {
                    CallerAction::Say(text.to_string())
                }
            }
        }
    }
}

fn print_transcript(report: &PhoneReport) {
    println!("call {}", report.call_sid);
    for (speaker, text) in &report.transcript {
        let who = match speaker {
            Speaker::Agent => "agent",
            Speaker::Caller => "caller",
        };
        println!("{who}: {text}");
    }
    let latencies: Vec<String> = report
        .turn_latencies
        .iter()
        .map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0))
        .collect();
    println!("turn latencies (ms): {}", latencies.join(", "));
    println!("ended: {}", report.ending);
    if let Some(whisper) = &report.whisper {
        println!("the person answering heard first: {whisper}");
    }
}

/// Many calls from scripts, `concurrency` at a time, with a summary.
async fn load(
    args: &CallArgs,
    line: PhoneLine,
    kit: Option<StreamKit>,
    scripts: Vec<Script>,
) -> Result<ExitCode> {
    let scripts = Arc::new(scripts);
    let http = http_client();
    let limit = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let progress = ProgressBar::new(args.calls as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} calls {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let servers: Vec<String> = args
        .server
        .iter()
        .map(|s| s.trim_end_matches('/').to_string())
        .collect();
    let outcomes_before = all_outcomes(&http, &servers).await;
    let began = Instant::now();
    let barge_in_after = args.barge_in;
    let mode = args.mode;
    let mut tasks = Vec::with_capacity(args.calls);
    let spacing = args
        .rate
        .filter(|rate| *rate > 0.0)
        .map(|per_minute| Duration::from_secs_f64(60.0 / per_minute));
    for i in 0..args.calls {
        if let Some(spacing) = spacing {
            tokio::time::sleep_until((began + spacing * i as u32).into()).await;
        }
        let permit = limit.clone().acquire_owned().await?;
        let (scripts, http, kit, progress) =
            (scripts.clone(), http.clone(), kit.clone(), progress.clone());
        let mut line = line.clone();
        if let Some(server) = servers.get(i % servers.len().max(1)) {
            line.server = server.clone();
        }
        tasks.push(tokio::spawn(async move {
            let script = &scripts[i % scripts.len()];
            if let Some(from) = &script.caller_id {
                line.from = from.clone();
            }
            let mut cursor = ScriptCursor::new(script);
            let call_sid = new_call_sid();
            let barge_in = barge_in_after.map(|ms| BargeIn {
                on_turn: 1,
                after: Duration::from_millis(ms),
                text: "sorry to cut in, i have a quick question".into(),
            });
            let report = match (mode, &kit) {
                (PhoneMode::Stream, Some(kit)) => {
                    stream_call(&http, &line, &mut cursor, &call_sid, kit, barge_in).await
                }
                _ => gather_call(&http, &line, &mut cursor, &call_sid).await,
            };
            drop(permit);
            progress.inc(1);
            report
        }));
    }
    let mut reports = Vec::with_capacity(tasks.len());
    for task in tasks {
        reports.push(task.await?);
    }
    progress.finish_and_clear();
    let elapsed = began.elapsed();
    if let [report] = reports.as_slice() {
        print_transcript(report);
        print_texts(kit.as_ref()).await;
    }
    // Stream calls end on the server a moment after the phone hangs up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let outcomes_after = all_outcomes(&http, &servers).await;
    let over_the_run = outcomes_before
        .zip(outcomes_after)
        .map(|(before, after)| outcomes_between(&before, after));
    let runs: Vec<(PhoneReport, &Script)> = reports
        .into_iter()
        .enumerate()
        .map(|(i, report)| (report, &scripts[i % scripts.len()]))
        .collect();
    let summary = Summary::of(&runs, elapsed, over_the_run);
    summary.print(args.mode);
    if args.mode == PhoneMode::Stream {
        print_server_latencies(&http, &line.server).await;
    }
    Ok(if summary.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The texts the server sent through the fake Twilio API, once its outbox worker
/// has had a moment.
async fn print_texts(kit: Option<&StreamKit>) {
    let Some(rest) = kit.and_then(|kit| kit.rest.as_ref()) else {
        return;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    for text in rest.messages() {
        println!("text to {}: {}", text.to, text.body);
    }
}

/// The server's count of calls by outcome since it started, from `/health/detailed`.
async fn server_outcomes(http: &reqwest::Client, server: &str) -> Option<BTreeMap<String, u64>> {
    let url = format!("{server}/health/detailed");
    let health: serde_json::Value = http.get(&url).send().await.ok()?.json().await.ok()?;
    serde_json::from_value(health.get("calls_by_outcome")?.clone()).ok()
}

/// The servers' counts added up; `None` if any did not say.
async fn all_outcomes(http: &reqwest::Client, servers: &[String]) -> Option<BTreeMap<String, u64>> {
    let mut total = BTreeMap::new();
    for server in servers {
        for (outcome, n) in server_outcomes(http, server).await? {
            *total.entry(outcome).or_default() += n;
        }
    }
    Some(total)
}

/// The outcomes counted between two readings.
fn outcomes_between(
    before: &BTreeMap<String, u64>,
    after: BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .into_iter()
        .map(|(outcome, n)| {
            let earlier = before.get(&outcome).copied().unwrap_or(0);
            (outcome, n.saturating_sub(earlier))
        })
        .collect()
}

/// The server's own measurements (recent window), from `/health/detailed`.
async fn print_server_latencies(http: &reqwest::Client, server: &str) {
    let url = format!("{server}/health/detailed");
    let Ok(response) = http.get(&url).send().await else {
        return;
    };
    let Ok(health) = response.json::<serde_json::Value>().await else {
        return;
    };
    for (name, label) in [
        (
            "turn_to_first_audio",
            "server: final transcript -> first audio sent",
        ),
        ("barge_in_to_clear", "server: speech cue -> clear sent"),
        (
            "turn_to_answer_sentence",
            "server: final transcript -> first answer sentence to TTS",
        ),
    ] {
        let l = &health["latency"][name];
        if l["count"].as_u64().unwrap_or(0) > 0 {
            println!(
                "{label}: n={} p50={:.2} ms p95={:.2} ms p99={:.2} ms max={:.2} ms",
                l["count"],
                l["p50_ms"].as_f64().unwrap_or(0.0),
                l["p95_ms"].as_f64().unwrap_or(0.0),
                l["p99_ms"].as_f64().unwrap_or(0.0),
                l["max_ms"].as_f64().unwrap_or(0.0)
            );
        }
    }
}
