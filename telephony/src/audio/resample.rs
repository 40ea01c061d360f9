//! Sample-rate conversion to the phone line's 8 kHz.
//!
//! Windowed-sinc interpolation: each output sample is a weighted sum of the input around its
//! position, with a Blackman-windowed sinc whose cutoff sits below the *output* Nyquist
//! frequency. That low-passes and interpolates in one step, so a 22050 Hz voice loses its
//! highs instead of folding them back into the band as hiss. Enough quality for a phone line
//! without a DSP dependency.

use super::mulaw::SAMPLE_RATE;

/// Zero crossings of the sinc on each side of the centre: longer is sharper and slower.
const ZERO_CROSSINGS: f64 = 16.0;
/// Cutoff as a fraction of the lower Nyquist frequency (3.6 kHz for 8 kHz output), leaving the
/// window's transition band room to reach full attenuation before 4 kHz.
const CUTOFF: f64 = 0.9;

/// Resamples 16-bit mono audio from `from_rate` to 8 kHz.
pub fn to_8k(samples: &[i16], from_rate: u32) -> Vec<i16> {
    resample(samples, from_rate, SAMPLE_RATE)
}

/// Resamples 16-bit mono audio between any two rates.
pub fn resample(samples: &[i16], from_rate: u32, to_rate: u32) -> Vec<i16> {
    if from_rate == 0 || to_rate == 0 || samples.is_empty() {
        return Vec::new();
    }
    if from_rate == to_rate {
        return samples.to_vec();
    }
    let step = f64::from(from_rate) / f64::from(to_rate);
    // Cutoff in cycles per input sample, relative to the input Nyquist frequency.
    let cutoff = CUTOFF * (f64::from(to_rate) / f64::from(from_rate)).min(1.0);
    let half_width = ZERO_CROSSINGS / cutoff;
    let out_len = (samples.len() as u64 * u64::from(to_rate) / u64::from(from_rate)) as usize;
    let last = samples.len() as i64 - 1;

    let mut out = Vec::with_capacity(out_len);
    for n in 0..out_len {
        let centre = n as f64 * step;
        let first = ((centre - half_width).ceil() as i64).max(0);
        let end = ((centre + half_width).floor() as i64).min(last);
        let mut acc = 0.0;
        let mut weight_sum = 0.0;
        for k in first..=end {
            let x = k as f64 - centre;
            let w = kernel(x, cutoff, half_width);
            acc += w * f64::from(samples[k as usize]);
            weight_sum += w;
        }
        // Normalising by the weights keeps unity gain at DC, including at the edges where the
        // kernel is cut off.
        let value = if weight_sum.abs() > 1e-9 {
            acc / weight_sum
        } else {
            0.0
        };
        out.push(
            value
                .round()
                .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16,
        );
    }
    out
}

/// Blackman-windowed sinc at `x` input samples from the centre.
fn kernel(x: f64, cutoff: f64, half_width: f64) -> f64 {
    use std::f64::consts::PI;
    let u = x / half_width;
    if u.abs() >= 1.0 {
        return 0.0;
    }
    let window = 0.42 + 0.5 * (PI * u).cos() + 0.08 * (2.0 * PI * u).cos();
    let arg = PI * cutoff * x;
    let sinc = if arg.abs() < 1e-12 {
        1.0
    } else {
        arg.sin() / arg
    };
    cutoff * sinc * window
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
        assert!(output.iter().all(|&s| s > 32000), "{:?}", &output[..5]);
        let square: Vec<i16> = (0..2205)
            .map(|i| if i % 20 < 10 { i16::MAX } else { i16::MIN })
            .collect();
        assert_eq!(to_8k(&square, 22050).len(), 800);
    }
}
