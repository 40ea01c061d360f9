//! G.711 μ-law, the only audio format on a Twilio Media Stream: 8 kHz, mono, one byte a sample.

/// Samples per second on the phone line.
pub const SAMPLE_RATE: u32 = 8000;
/// One 20 ms frame, as Twilio sends it and as we pace outgoing audio.
pub const FRAME_BYTES: usize = 160;
/// Digital silence.
pub const SILENCE: u8 = 0xFF;

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

/// Encodes one 16-bit linear sample.
pub fn encode(sample: i16) -> u8 {
    let mut value = i32::from(sample);
    let sign = if value < 0 {
        value = -value;
        0x80
    } else {
        0
    };
    value = value.min(CLIP) + BIAS;
    // The segment is the position of the highest set bit above bit 7.
    let exponent = (31 - (value as u32).leading_zeros())
        .saturating_sub(7)
        .min(7) as i32;
    let mantissa = (value >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// Decodes one byte to a 16-bit linear sample.
pub fn decode(byte: u8) -> i16 {
    DECODE_TABLE[byte as usize]
}

static DECODE_TABLE: [i16; 256] = build_decode_table();

const fn build_decode_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        let byte = !(i as u8);
        let sign = byte & 0x80;
        let exponent = ((byte >> 4) & 0x07) as i32;
        let mantissa = (byte & 0x0F) as i32;
        let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
        table[i] = if sign != 0 {
            -magnitude as i16
        } else {
            magnitude as i16
        };
        i += 1;
    }
    table
}

/// Encodes a buffer of linear samples.
pub fn encode_all(samples: &[i16]) -> Vec<u8> {
    samples.iter().map(|&s| encode(s)).collect()
}

/// Root-mean-square level of a μ-law buffer, in linear units (0 for silence, ~32000 at most).
/// Cheap voice activity: speech on a phone line sits well above 500, line noise well below.
pub fn rms(frame: &[u8]) -> f32 {
    if frame.is_empty() {
        return 0.0;
    }
    let sum: f64 = frame
        .iter()
        .map(|&b| {
            let s = f64::from(decode(b));
            s * s
        })
        .sum();
    (sum / frame.len() as f64).sqrt() as f32
}

/// Level above which a frame counts as speech (see [`rms`]).
pub const SPEECH_RMS: f32 = 500.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_is_ff_and_decodes_to_zero() {
        assert_eq!(encode(0), SILENCE);
        assert_eq!(decode(SILENCE), 0);
        assert_eq!(rms(&[SILENCE; FRAME_BYTES]), 0.0);
    }

    #[test]
    fn round_trip_stays_within_the_segment_step() {
        for sample in (-32000i32..32000).step_by(97) {
            let back = i32::from(decode(encode(sample as i16)));
            // μ-law keeps about 4 significant bits: the error grows with the magnitude.
            let tolerance = (sample.abs() / 16).max(8);
            assert!(
                (back - sample).abs() <= tolerance,
                "{sample} came back as {back}"
            );
        }
    }

    #[test]
    fn known_codes_match_g711() {
        // Reference values from the ITU-T G.711 tables.
        assert_eq!(encode(-32768), 0x00);
        assert_eq!(encode(32767), 0x80);
        assert_eq!(decode(0x00), -32124);
        assert_eq!(decode(0x80), 32124);
    }

    #[test]
    fn a_loud_tone_is_speech_and_silence_is_not() {
        let tone: Vec<u8> = (0..FRAME_BYTES)
            .map(|i| encode(((i as f32 * 0.3).sin() * 8000.0) as i16))
            .collect();
        assert!(rms(&tone) > SPEECH_RMS);
        assert!(rms(&[SILENCE; FRAME_BYTES]) < SPEECH_RMS);
    }
}
