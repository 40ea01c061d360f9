//! Sample-rate conversion to the phone line's 8 kHz, with `rubato`'s synchronous FFT
//! resampler: the spectrum is cut at the new Nyquist frequency, so a 22050 Hz voice loses its
//! highs instead of folding them back into the band as hiss, in a fraction of a millisecond
//! per second of speech (`cargo bench --bench audio`). Resamplers are built once per thread
//! and pair of rates; callers run this off the async workers (it is CPU work).

use std::cell::RefCell;
use std::collections::HashMap;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::mulaw::SAMPLE_RATE;

/// Frames per FFT chunk: long enough to be efficient, short enough for a one-word line.
const CHUNK: usize = 1024;

thread_local! {
    static RESAMPLERS: RefCell<HashMap<(u32, u32), Fft<f32>>> = RefCell::new(HashMap::new());
}

/// Resamples 16-bit mono audio from `from_rate` to 8 kHz.
pub fn to_8k(samples: &[i16], from_rate: u32) -> Vec<i16> {
    resample(samples, from_rate, SAMPLE_RATE)
}

/// Resamples 16-bit mono audio between any two rates; exactly `len × to / from` samples
/// come out (rounded down), with the resampler's delay trimmed.
pub fn resample(samples: &[i16], from_rate: u32, to_rate: u32) -> Vec<i16> {
    if from_rate == 0 || to_rate == 0 || samples.is_empty() {
        return Vec::new();
    }
    if from_rate == to_rate {
        return samples.to_vec();
    }
    let wanted = (samples.len() as u64 * u64::from(to_rate) / u64::from(from_rate)) as usize;
    let input: Vec<f32> = samples.iter().map(|&s| f32::from(s) / 32768.0).collect();
    let resampled = RESAMPLERS.with(|cell| {
        let mut resamplers = cell.borrow_mut();
        let resampler = match resamplers.entry((from_rate, to_rate)) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let made = Fft::<f32>::new(
                    from_rate as usize,
                    to_rate as usize,
                    CHUNK,
                    1,
                    FixedSync::Input,
                )
                .ok()?;
                entry.insert(made)
            }
        };
        let adapter = InterleavedSlice::new(&input, 1, input.len()).ok()?;
        resampler
            .process_all(&adapter, input.len(), None)
            .ok()
            .map(|out| out.take_data())
    });
    let Some(resampled) = resampled else {
        // Rates rubato cannot pair (not expected for audio rates): silence of the right
        // length rather than a failed call.
        return vec![0; wanted];
    };
    let mut out: Vec<i16> = resampled
        .iter()
        .take(wanted)
        .map(|&v| {
            (v * 32768.0)
                .round()
                .clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
        })
        .collect();
    out.resize(wanted, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, rate: u32, seconds: f64, amplitude: f64) -> Vec<i16> {
        let n = (f64::from(rate) * seconds) as usize;
        (0..n)
            .map(|i| {
                (amplitude * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
                    as i16
            })
            .collect()
    }

    /// RMS away from the edges, where the truncated kernel is least representative.
    fn rms(samples: &[i16]) -> f64 {
        let inner = &samples[samples.len() / 10..samples.len() * 9 / 10];
        (inner.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / inner.len() as f64).sqrt()
    }

    #[test]
    fn length_scales_with_the_ratio() {
        assert_eq!(to_8k(&vec![0; 22050], 22050).len(), 8000);
        assert_eq!(to_8k(&vec![0; 16000], 16000).len(), 8000);
        assert_eq!(to_8k(&vec![0; 441], 22050).len(), 160);
        assert_eq!(to_8k(&vec![0; 4000], 4000).len(), 8000);
        assert_eq!(to_8k(&[1, 2, 3], 8000), vec![1, 2, 3]);
        assert!(to_8k(&[], 22050).is_empty());
        assert!(to_8k(&[1, 2, 3], 0).is_empty());
    }

    #[test]
    fn a_1khz_tone_survives() {
        let input = tone(1000.0, 22050, 0.5, 10000.0);
        let output = to_8k(&input, 22050);
        let ratio = rms(&output) / rms(&input);
        assert!(
            (0.9..1.1).contains(&ratio),
            "1 kHz kept {ratio:.3} of its level"
        );
        // And it is still a 1 kHz tone: 8 samples a period, so sample n and n+8 agree.
        let drift: f64 = output[800..1600]
            .iter()
            .zip(&output[808..1608])
            .map(|(a, b)| f64::from(a - b).abs())
            .sum::<f64>()
            / 800.0;
        assert!(drift < 100.0, "period drift {drift}");
    }

    #[test]
    fn a_6khz_tone_is_filtered_out() {
        // 6 kHz cannot exist at 8 kHz; without filtering it would fold back to 2 kHz.
        let input = tone(6000.0, 22050, 0.5, 10000.0);
        let output = to_8k(&input, 22050);
        let ratio = rms(&output) / rms(&input);
        assert!(ratio < 0.01, "6 kHz kept {ratio:.4} of its level");
    }

    #[test]
    fn dc_and_full_scale_do_not_overflow() {
        let output = to_8k(&[i16::MAX; 2205], 22050);
        // Clamped, never wrapped round to negative; full level away from the clip's edges
        // (where any band-limited resampler rings).
        assert!(output.iter().all(|&s| s > 20000), "{:?}", &output[..5]);
        let inner = &output[40..output.len() - 40];
        assert!(inner.iter().all(|&s| s > 32000), "{inner:?}");
        let square: Vec<i16> = (0..2205)
            .map(|i| if i % 20 < 10 { i16::MAX } else { i16::MIN })
            .collect();
        assert_eq!(to_8k(&square, 22050).len(), 800);
    }
}
