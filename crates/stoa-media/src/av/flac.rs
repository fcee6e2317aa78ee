//! FLAC: `fLaC`, metadata blocks (STREAMINFO first), then audio frames.
//! The duration is STREAMINFO's sample count over its sample rate.

use super::read::{invalid, Reader};
use super::{seconds, AudioInfo, Probe};
use crate::{MediaError, MediaKind};

const STREAMINFO: u8 = 0;
const PADDING: u8 = 1;
const VORBIS_COMMENT: u8 = 4;
const PICTURE: u8 = 6;

/// Sample rate, channels and total samples of a 34-byte STREAMINFO block.
pub(crate) struct StreamInfo {
    pub sample_rate: u32,
    pub channels: u32,
    pub total_samples: u64,
}

pub(crate) fn parse_streaminfo(block: &[u8]) -> Result<StreamInfo, MediaError> {
    let b: &[u8; 34] = block
        .try_into()
        .map_err(|_| invalid("the FLAC stream information has the wrong size"))?;
    // Bits 80..100: sample rate; 100..103: channels - 1; 103..108: bits per
    // sample - 1; 108..144: total samples.
    let sample_rate = (u32::from(b[10]) << 12) | (u32::from(b[11]) << 4) | (u32::from(b[12]) >> 4);
    let channels = u32::from((b[12] >> 1) & 0x07) + 1;
    let total_samples = (u64::from(b[13] & 0x0F) << 32)
        | u64::from(u32::from_be_bytes([b[14], b[15], b[16], b[17]]));
    if sample_rate == 0 {
        return Err(invalid("the FLAC stream has no sample rate"));
    }
    Ok(StreamInfo {
        sample_rate,
        channels,
        total_samples,
    })
}

pub(crate) fn probe(bytes: &[u8]) -> Result<Probe, MediaError> {
    let mut r = Reader::new(bytes, "FLAC");
    if r.take(4)? != b"fLaC" {
        return Err(invalid("not a FLAC file"));
    }
    let mut info = None;
    let mut blank = Vec::new();
    loop {
        let at = r.pos();
        let header = r.u8()?;
        let last = header & 0x80 != 0;
        let kind = header & 0x7F;
        let len = usize::try_from(r.u24_be()?).map_err(|_| r.truncated())?;
        let body = r.take(len)?;
        match kind {
            STREAMINFO if info.is_none() && at == 4 => info = Some(parse_streaminfo(body)?),
            _ if at == 4 => {
                return Err(invalid(
                    "the FLAC file does not start with its stream information",
                ))
            }
            STREAMINFO => return Err(invalid("the FLAC file has two stream informations")),
            127 => return Err(invalid("a FLAC metadata block is invalid")),
            VORBIS_COMMENT | PICTURE => blank.push((at, len)),
            _ => {}
        }
        if last {
            break;
        }
    }
    // Audio frames start with a 14-bit sync code (0xFFF8 or 0xFFF9).
    match r.rest() {
        [0xFF, b, ..] if b & 0xFE == 0xF8 => {}
        [] => return Err(invalid("the FLAC file has no audio")),
        _ => return Err(invalid("the FLAC audio does not start with a frame")),
    }
    let info = info.ok_or_else(|| invalid("the FLAC file has no stream information"))?;
    if info.total_samples == 0 {
        return Err(invalid("the FLAC file does not record its length"));
    }
    let cleaned = (!blank.is_empty()).then(|| {
        let mut out = bytes.to_vec();
        for (at, len) in blank {
            // Keep the "last block" flag; the block becomes padding.
            out[at] = (out[at] & 0x80) | PADDING;
            out[at + 4..at + 4 + len].fill(0);
        }
        out
    });
    Ok(Probe {
        kind: MediaKind::Audio,
        content_type: "audio/flac",
        duration_secs: seconds(info.total_samples, u64::from(info.sample_rate)),
        video: None,
        audio: Some(AudioInfo {
            codec: Some("flac"),
            sample_rate: Some(info.sample_rate),
            channels: Some(info.channels),
        }),
        cleaned,
    })
}
