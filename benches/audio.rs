//! The local voice's audio path off the call: 22050 Hz speech to 8 kHz (rubato's FFT
//! resampler), and the whole WAV-to-μ-law conversion, per second of speech.
//! `cargo bench --bench audio`.

use criterion::{Criterion, criterion_group, criterion_main};
use frontdesk_telephony::audio::resample;

/// One second of a voice-like signal at espeak-ng's rate: a 140 Hz buzz with harmonics.
fn one_second_of_speech() -> Vec<i16> {
    (0..22050)
        .map(|i| {
            let t = i as f64 / 22050.0;
            let wave: f64 = (1..12)
                .map(|h| (2.0 * std::f64::consts::PI * 140.0 * h as f64 * t).sin() / h as f64)
                .sum();
            (wave * 6000.0) as i16
        })
        .collect()
}

/// The same second as the WAV espeak-ng writes (16-bit mono PCM).
fn wav(samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&22050u32.to_le_bytes());
    out.extend_from_slice(&(22050u32 * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

fn audio(c: &mut Criterion) {
    let speech = one_second_of_speech();
    c.bench_function("resample 1 s of 22050 Hz speech to 8 kHz", |b| {
        b.iter(|| resample::to_8k(std::hint::black_box(&speech), 22050))
    });
    let wav = wav(&speech);
    c.bench_function("espeak-ng WAV (1 s) to 8 kHz mu-law", |b| {
        b.iter(|| frontdesk_telephony::audio::espeak::phone_audio(std::hint::black_box(&wav)))
    });
}

criterion_group!(benches, audio);
criterion_main!(benches);
