//! The local voice: espeak-ng run as a command, its WAV turned into 8 kHz μ-law.
//!
//! Robotic but free, offline and fast, so calls work with no speech provider account.

use std::process::Stdio;
use std::sync::OnceLock;

use tokio::io::AsyncWriteExt;

use super::{mulaw, resample};

const NOT_INSTALLED: &str =
    "espeak-ng is not installed; run ./scripts/services.sh or apt-get install espeak-ng";

#[derive(Debug, thiserror::Error)]
pub enum EspeakError {
    #[error("{NOT_INSTALLED}")]
    NotInstalled,
    #[error("invalid espeak-ng voice {0:?}")]
    InvalidVoice(String),
    #[error("espeak-ng failed: {0}")]
    Failed(String),
    #[error("espeak-ng produced unreadable audio: {0}")]
    BadWav(String),
}

/// espeak-ng's accepted speed range, in words per minute.
const MIN_WPM: u32 = 80;
const MAX_WPM: u32 = 450;

/// Speaks `text` with espeak-ng and returns 8 kHz μ-law audio, ready for a Media Stream.
///
/// The text goes in on stdin, never as an argument, so nothing a caller says can become an
/// option. Dropping the future kills espeak-ng (that is how a barge-in cancels synthesis).
pub async fn synthesize(
    text: &str,
    voice: &str,
    words_per_minute: u32,
) -> Result<Vec<u8>, EspeakError> {
    check_voice(voice)?;
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let speed = words_per_minute.clamp(MIN_WPM, MAX_WPM).to_string();
    let mut child = tokio::process::Command::new("espeak-ng")
        .args(["-v", voice, "-s", &speed, "--stdin", "--stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => EspeakError::NotInstalled,
            _ => EspeakError::Failed(format!("could not start espeak-ng: {e}")),
        })?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| EspeakError::Failed("no stdin pipe".to_string()))?;
    // Write and read at the same time: a long text could otherwise fill both pipes and
    // deadlock.
    let input = text.as_bytes().to_vec();
    let writer = async move {
        let result = stdin.write_all(&input).await;
        drop(stdin);
        result
    };
    let (written, output) = tokio::join!(writer, child.wait_with_output());
    let output = output.map_err(|e| EspeakError::Failed(e.to_string()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(EspeakError::Failed(format!(
            "{} ({})",
            stderr.trim(),
            output.status
        )));
    }
    written.map_err(|e| EspeakError::Failed(format!("writing the text: {e}")))?;
    if output.stdout.is_empty() {
        return Ok(Vec::new());
    }
    // Decoding and resampling are CPU work: off the async workers that carry live calls.
    let wav = output.stdout;
    tokio::task::spawn_blocking(move || phone_audio(&wav))
        .await
        .map_err(|e| EspeakError::Failed(format!("converting the audio stopped: {e}")))?
}

/// espeak-ng's WAV as 8 kHz μ-law.
pub fn phone_audio(wav: &[u8]) -> Result<Vec<u8>, EspeakError> {
    let (rate, samples) = parse_wav(wav)?;
    Ok(mulaw::encode_all(&resample::to_8k(&samples, rate)))
}

/// Whether espeak-ng can be run here. Checked once per process.
pub fn available() -> bool {
    version().is_some()
}

/// espeak-ng's version line, if it can be run. Checked once per process.
pub fn version() -> Option<&'static str> {
    static VERSION: OnceLock<Option<String>> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            let output = std::process::Command::new("espeak-ng")
                .arg("--version")
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .ok()?;
            output
                .status
                .success()
                .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
        })
        .as_deref()
}

/// The message to show when espeak-ng is missing.
pub fn not_installed_message() -> &'static str {
    NOT_INSTALLED
}

/// Voice names are like `en-us`, `en+f3`, `mb-en1`: anything else is refused so the argument
/// can only ever be a voice.
fn check_voice(voice: &str) -> Result<(), EspeakError> {
    let ok = !voice.is_empty()
        && voice.len() <= 64
        && !voice.starts_with('-')
        && voice
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/'));
    if ok {
        Ok(())
    } else {
        Err(EspeakError::InvalidVoice(voice.to_string()))
    }
}

/// Reads a 16-bit PCM mono WAV into (sample rate, samples).
///
/// espeak-ng streams its WAV to stdout before it knows the length, so the RIFF and `data`
/// sizes are placeholders (0x7ffff000): the `data` chunk is taken to run to the end of the
/// input whenever its size says more than is there.
pub fn parse_wav(bytes: &[u8]) -> Result<(u32, Vec<i16>), EspeakError> {
    let bad = |why: &str| EspeakError::BadWav(why.to_string());
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE stream"));
    }
    let mut pos = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        let body_start = pos + 8;
        let body_end = body_start.saturating_add(size).min(bytes.len());
        let body = &bytes[body_start..body_end];
        match id {
            b"fmt " => {
                if body.len() < 16 {
                    return Err(bad("short fmt chunk"));
                }
                let le16 = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
                let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                format = Some((le16(0), le16(2), rate, le16(14)));
            }
            b"data" => {
                let (audio_format, channels, rate, bits) =
                    format.ok_or_else(|| bad("data before fmt"))?;
                if audio_format != 1 || channels != 1 || bits != 16 {
                    return Err(EspeakError::BadWav(format!(
                        "expected 16-bit PCM mono, got format {audio_format}, {channels} channels, {bits} bits"
                    )));
                }
                if rate == 0 {
                    return Err(bad("sample rate 0"));
                }
                let samples = body
                    .chunks_exact(2)
                    .map(|b| i16::from_le_bytes([b[0], b[1]]))
                    .collect();
                return Ok((rate, samples));
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        pos = body_start.saturating_add(size).saturating_add(size & 1);
    }
    Err(bad("no data chunk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn require_espeak() {
        assert!(available(), "{NOT_INSTALLED}");
    }

    fn wav(chunks: &[(&[u8; 4], Vec<u8>, Option<u32>)]) -> Vec<u8> {
        let mut out = b"RIFF\x24\xf0\xff\x7fWAVE".to_vec();
        for (id, body, size) in chunks {
            out.extend_from_slice(*id);
            out.extend_from_slice(&size.unwrap_or(body.len() as u32).to_le_bytes());
            out.extend_from_slice(body);
            if body.len() % 2 == 1 && size.is_none() {
                out.push(0);
            }
        }
        out
    }

    fn fmt(rate: u32, channels: u16, bits: u16) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&1u16.to_le_bytes());
        f.extend_from_slice(&channels.to_le_bytes());
        f.extend_from_slice(&rate.to_le_bytes());
        f.extend_from_slice(&(rate * 2).to_le_bytes());
        f.extend_from_slice(&2u16.to_le_bytes());
        f.extend_from_slice(&bits.to_le_bytes());
        f
    }

    #[test]
    fn parses_espeaks_streamed_wav_with_bogus_sizes() {
        let data: Vec<u8> = [1i16, -2, 300]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let bytes = wav(&[
            (b"fmt ", fmt(22050, 1, 16), None),
            (b"data", data, Some(0x7fff_f000)),
        ]);
        let parsed = parse_wav(&bytes);
        assert!(
            matches!(&parsed, Ok((22050, s)) if s == &vec![1, -2, 300]),
            "{parsed:?}"
        );
    }

    #[test]
    fn skips_other_chunks_and_odd_padding() {
        let data: Vec<u8> = [7i16, 8].iter().flat_map(|s| s.to_le_bytes()).collect();
        let bytes = wav(&[
            (b"fmt ", fmt(16000, 1, 16), None),
            (b"LIST", vec![1, 2, 3], None),
            (b"data", data, None),
        ]);
        let parsed = parse_wav(&bytes);
        assert!(
            matches!(&parsed, Ok((16000, s)) if s == &vec![7, 8]),
            "{parsed:?}"
        );
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert!(parse_wav(b"").is_err());
        assert!(parse_wav(b"Usage: espeak-ng [options] [\"<words>\"]").is_err());
        assert!(parse_wav(&wav(&[(b"data", vec![0, 0], None)])).is_err());
        assert!(
            parse_wav(&wav(&[
                (b"fmt ", fmt(8000, 2, 16), None),
                (b"data", vec![0; 4], None)
            ]))
            .is_err()
        );
        assert!(
            parse_wav(&wav(&[
                (b"fmt ", fmt(8000, 1, 8), None),
                (b"data", vec![0; 4], None)
            ]))
            .is_err()
        );
        assert!(parse_wav(&wav(&[(b"fmt ", fmt(8000, 1, 16), None)])).is_err());
    }

    #[test]
    fn voices_are_checked() {
        for ok in ["en-us", "en+f3", "mb-en1", "en_GB"] {
            assert!(check_voice(ok).is_ok(), "{ok}");
        }
        for bad in ["", "--help", "-x", "en us", "en;rm", &"a".repeat(65)] {
            assert!(check_voice(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn speaks_a_short_line() {
        require_espeak();
        let audio = match synthesize("Thanks for calling", "en-us", 170).await {
            Ok(audio) => audio,
            Err(e) => panic!("{e}"),
        };
        let seconds = audio.len() as f32 / mulaw::SAMPLE_RATE as f32;
        assert!((0.5..5.0).contains(&seconds), "{seconds} s");
        let level = mulaw::rms(&audio);
        assert!(level > mulaw::SPEECH_RMS, "rms {level}");
    }

    #[tokio::test]
    async fn text_is_never_an_option() {
        require_espeak();
        // As an argument these would print help or pick another voice; on stdin they are words.
        let result = synthesize("--help -v xx --version", "en-us", 170).await;
        assert!(
            matches!(&result, Ok(audio) if audio.len() > 4000),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn empty_text_unknown_voice_and_odd_speeds() {
        require_espeak();
        assert!(matches!(synthesize("  ", "en-us", 170).await, Ok(a) if a.is_empty()));
        let unknown = synthesize("hello", "xx-nosuchvoice", 170).await;
        assert!(
            matches!(&unknown, Err(EspeakError::Failed(m)) if m.contains("voice")),
            "{unknown:?}"
        );
        assert!(matches!(
            synthesize("hello", "--help", 170).await,
            Err(EspeakError::InvalidVoice(_))
        ));
        // Out-of-range speeds are clamped rather than refused.
        assert!(matches!(synthesize("hello", "en-us", 0).await, Ok(a) if !a.is_empty()));
        assert!(matches!(synthesize("hello", "en-us", 100_000).await, Ok(a) if !a.is_empty()));
    }
}
