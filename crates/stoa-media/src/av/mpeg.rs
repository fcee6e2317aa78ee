//! MP3 (MPEG-1/2/2.5 audio, layers I–III) and AAC in ADTS: a sequence of
//! frames, each with a header giving its length and sample count. Every
//! frame header is read; the frames must follow each other to the end of
//! the file, where only tags (ID3v1, APE, Lyrics3) or zero padding may
//! remain. ID3v2 tags at the start and tags at the end are cut off.

use super::read::{invalid, Reader};
use super::{seconds, AudioInfo, Probe};
use crate::{MediaError, MediaKind};

/// One frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frame {
    len: usize,
    samples: u32,
    sample_rate: u32,
    channels: u32,
    /// Frames of one stream share it (MPEG version and layer, or AAC).
    family: u8,
}

pub(crate) fn probe(bytes: &[u8]) -> Result<Probe, MediaError> {
    let start = skip_id3v2(bytes)?;
    let audio = &bytes[start..];
    let (aac, first) = if let Some(frame) = adts_header(audio) {
        (true, frame)
    } else if let Some(frame) = mp3_header(audio) {
        (false, frame)
    } else {
        return Err(invalid("no MP3 or AAC frame where the audio should start"));
    };
    let header = if aac { adts_header } else { mp3_header };
    let format = if aac { "AAC" } else { "MP3" };

    let mut pos = 0;
    let mut samples: u64 = 0;
    let mut frames: u64 = 0;
    while let Some(frame) = header(&audio[pos..]) {
        if frame.family != first.family || frame.sample_rate != first.sample_rate {
            return Err(invalid(format!("the {format} frames change format midway")));
        }
        let Some(body) = audio.get(pos..pos + frame.len) else {
            return Err(invalid(format!("the {format} file is truncated")));
        };
        // A Xing, Info or VBRI frame at the start carries no sound.
        if !(frames == 0 && !aac && is_vbr_header(body, frame)) {
            samples += u64::from(frame.samples);
        }
        frames += 1;
        pos += frame.len;
    }
    let trailer_start = pos;
    let trailer = &audio[pos..];
    if !is_trailing_tags(trailer) {
        return Err(invalid(format!(
            "the {format} file is damaged after {frames} frames"
        )));
    }
    if samples == 0 {
        return Err(invalid(format!("the {format} file holds no sound")));
    }
    let cleaned = (start > 0 || !trailer.is_empty()).then(|| audio[..trailer_start].to_vec());
    Ok(Probe {
        kind: MediaKind::Audio,
        content_type: if aac { "audio/aac" } else { "audio/mpeg" },
        duration_secs: seconds(samples, u64::from(first.sample_rate)),
        video: None,
        audio: Some(AudioInfo {
            codec: Some(if aac {
                "aac"
            } else {
                match first.family & 0x03 {
                    3 => "mp1",
                    2 => "mp2",
                    _ => "mp3",
                }
            }),
            sample_rate: Some(first.sample_rate),
            channels: (first.channels > 0).then_some(first.channels),
        }),
        cleaned,
    })
}

/// Skips ID3v2 tags at the start; returns where the audio starts.
fn skip_id3v2(bytes: &[u8]) -> Result<usize, MediaError> {
    let mut r = Reader::new(bytes, "MP3");
    while r.rest().starts_with(b"ID3") {
        let header: [u8; 10] = r.array()?;
        let size_bytes = &header[6..10];
        if size_bytes.iter().any(|b| b & 0x80 != 0) {
            return Err(invalid("the ID3 tag has an invalid size"));
        }
        let size = size_bytes
            .iter()
            .fold(0usize, |size, b| (size << 7) | usize::from(*b));
        let footer = if header[5] & 0x10 != 0 { 10 } else { 0 };
        r.skip(size + footer)?;
    }
    Ok(r.pos())
}

/// Kilobits per second by bitrate index 1..=14, for MPEG-1 layers I, II, III
/// and MPEG-2/2.5 layer I, layers II and III.
const BITRATES: [[u16; 14]; 5] = [
    [
        32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ],
    [
        32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ],
    [
        32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ],
    [
        32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ],
    [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

fn mp3_header(b: &[u8]) -> Option<Frame> {
    let &[0xFF, b1, b2, b3, ..] = b else {
        return None;
    };
    if b1 & 0xE0 != 0xE0 {
        return None;
    }
    let version = (b1 >> 3) & 0x03; // 0: 2.5, 1: reserved, 2: 2, 3: 1
    let layer = (b1 >> 1) & 0x03; // 1: III, 2: II, 3: I
    let bitrate_index = usize::from(b2 >> 4);
    let rate_index = usize::from((b2 >> 2) & 0x03);
    if version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        // Reserved values, or the free format (no frame length).
        return None;
    }
    let mpeg1 = version == 3;
    let table = match (mpeg1, layer) {
        (true, 3) => 0,
        (true, 2) => 1,
        (true, _) => 2,
        (false, 3) => 3,
        (false, _) => 4,
    };
    let bitrate = u32::from(BITRATES[table][bitrate_index - 1]) * 1000;
    let sample_rate = [44_100, 48_000, 32_000][rate_index]
        / match version {
            3 => 1,
            2 => 2,
            _ => 4,
        };
    let padding = u32::from((b2 >> 1) & 0x01);
    let (len, samples) = match layer {
        3 => ((12 * bitrate / sample_rate + padding) * 4, 384),
        2 => (144 * bitrate / sample_rate + padding, 1152),
        _ if mpeg1 => (144 * bitrate / sample_rate + padding, 1152),
        _ => (72 * bitrate / sample_rate + padding, 576),
    };
    Some(Frame {
        len: usize::try_from(len).ok()?,
        samples,
        sample_rate,
        channels: if b3 >> 6 == 3 { 1 } else { 2 },
        family: (version << 2) | layer,
    })
}

/// Whether the first frame is a Xing/Info or VBRI header instead of sound.
fn is_vbr_header(frame: &[u8], header: Frame) -> bool {
    let mpeg1 = header.family >> 2 == 3;
    let mono = header.channels == 1;
    let side_info = match (mpeg1, mono) {
        (true, true) => 17,
        (true, false) => 32,
        (false, true) => 9,
        (false, false) => 17,
    };
    let at = |offset: usize, tag: &[u8]| frame.get(offset..offset + 4) == Some(tag);
    at(4 + side_info, b"Xing") || at(4 + side_info, b"Info") || at(36, b"VBRI")
}

const ADTS_RATES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

fn adts_header(b: &[u8]) -> Option<Frame> {
    let &[0xFF, b1, b2, b3, b4, b5, b6, ..] = b else {
        return None;
    };
    // 12-bit sync, layer 00.
    if b1 & 0xF6 != 0xF0 {
        return None;
    }
    let header_len = if b1 & 0x01 == 0 { 9 } else { 7 };
    let sample_rate = *ADTS_RATES.get(usize::from((b2 >> 2) & 0x0F))?;
    let channels = (u32::from(b2 & 0x01) << 2) | u32::from(b3 >> 6);
    let len = (usize::from(b3 & 0x03) << 11) | (usize::from(b4) << 3) | usize::from(b5 >> 5);
    if len <= header_len {
        return None;
    }
    let blocks = u32::from(b6 & 0x03) + 1;
    Some(Frame {
        len,
        samples: 1024 * blocks,
        sample_rate,
        channels,
        family: 0x10,
    })
}

/// Whether what follows the last frame is only tags or zero padding:
/// Lyrics3, APE (with or without its header) and a final 128-byte ID3v1
/// tag, in that order.
fn is_trailing_tags(trailer: &[u8]) -> bool {
    let mut rest = trailer;
    if rest.len() >= 128 && rest[rest.len() - 128..].starts_with(b"TAG") {
        rest = &rest[..rest.len() - 128];
    }
    if rest.len() >= 32 && rest[rest.len() - 32..].starts_with(b"APETAGEX") {
        // The footer's size counts the items and the footer, not the header.
        let footer = &rest[rest.len() - 32..];
        let size = u32::from_le_bytes([footer[12], footer[13], footer[14], footer[15]]);
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let Some(tag_start) = rest.len().checked_sub(size) else {
            return false;
        };
        rest = &rest[..tag_start];
        if rest.len() >= 32 && rest[rest.len() - 32..].starts_with(b"APETAGEX") {
            rest = &rest[..rest.len() - 32];
        }
    }
    rest.is_empty()
        || rest.starts_with(b"LYRICSBEGIN")
        || rest.starts_with(b"APETAGEX")
        || rest.iter().all(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mp3_frame_lengths() {
        // MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding: 417 bytes.
        let f = mp3_header(&[0xFF, 0xFB, 0x90, 0x64]).expect("header");
        assert_eq!((f.len, f.samples, f.sample_rate), (417, 1152, 44_100));
        // Same with padding: 418.
        let f = mp3_header(&[0xFF, 0xFB, 0x92, 0x64]).expect("header");
        assert_eq!(f.len, 418);
        // MPEG-2 layer III, 64 kbit/s, 22.05 kHz, mono: 208 bytes, 576 samples.
        let f = mp3_header(&[0xFF, 0xF3, 0x80, 0xC0]).expect("header");
        assert_eq!(
            (f.len, f.samples, f.sample_rate, f.channels),
            (208, 576, 22_050, 1)
        );
        // Free format, reserved rate, reserved version: refused.
        assert_eq!(mp3_header(&[0xFF, 0xFB, 0x00, 0x64]), None);
        assert_eq!(mp3_header(&[0xFF, 0xFB, 0x9C, 0x64]), None);
        assert_eq!(mp3_header(&[0xFF, 0xEB, 0x90, 0x64]), None);
        assert_eq!(mp3_header(&[0xFF, 0xFB]), None);
    }

    #[test]
    fn adts_frame_lengths() {
        // AAC LC, 44.1 kHz, stereo, 0x100 bytes, one raw block.
        let f = adts_header(&[0xFF, 0xF1, 0x50, 0x80, 0x20, 0x00, 0xFC]).expect("header");
        assert_eq!(
            (f.len, f.samples, f.sample_rate, f.channels),
            (256, 1024, 44_100, 2)
        );
        assert_eq!(
            adts_header(&[0xFF, 0xF1, 0x50, 0x80, 0x00, 0x00, 0xFC]),
            None
        );
    }

    #[test]
    fn trailers() {
        assert!(is_trailing_tags(b""));
        assert!(is_trailing_tags(&[0; 100]));
        let mut id3v1 = b"TAG".to_vec();
        id3v1.resize(128, b' ');
        assert!(is_trailing_tags(&id3v1));
        let mut ape = b"ITEMS".to_vec();
        ape.extend_from_slice(b"APETAGEX\xd0\x07\0\0");
        ape.extend_from_slice(&37u32.to_le_bytes());
        ape.resize(5 + 32, 0);
        ape.extend_from_slice(&id3v1);
        assert!(is_trailing_tags(&ape));
        assert!(!is_trailing_tags(b"garbage"));
        assert!(!is_trailing_tags(&id3v1[..100]));
    }
}
