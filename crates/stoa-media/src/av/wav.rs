//! WAV: a RIFF file of chunks. `fmt ` says how the samples are laid out,
//! `data` holds them; the duration is the size of `data` over the bytes
//! per second.

use super::read::{invalid, Reader};
use super::{seconds, AudioInfo, Probe};
use crate::{MediaError, MediaKind};

/// Chunks that only describe the recording (title, artist, software,
/// broadcast and location data, XMP): blanked as `JUNK`.
const METADATA_CHUNKS: [&[u8; 4]; 6] = [b"LIST", b"id3 ", b"ID3 ", b"bext", b"iXML", b"_PMX"];

struct Format {
    tag: u16,
    channels: u16,
    sample_rate: u32,
    byte_rate: u32,
    block_align: u16,
    bits: u16,
}

pub(crate) fn probe(bytes: &[u8]) -> Result<Probe, MediaError> {
    let mut r = Reader::new(bytes, "WAV");
    if r.take(4)? != b"RIFF" {
        return Err(invalid("not a RIFF file"));
    }
    let riff_size = r.u32_le()?;
    if r.take(4)? != b"WAVE" {
        return Err(invalid("not a WAVE file"));
    }
    // Streaming writers leave the size at 0 or all ones; anything after the
    // declared end is not part of the file.
    let end = match riff_size {
        0 | u32::MAX => bytes.len(),
        size => usize::try_from(size)
            .ok()
            .and_then(|s| s.checked_add(8))
            .map_or(bytes.len(), |end| end.min(bytes.len())),
    };
    if end < r.pos() {
        return Err(invalid("the RIFF size is too small"));
    }
    let mut format = None;
    let mut data_len = None;
    let mut blank = Vec::new();
    while r.pos() + 8 <= end {
        let at = r.pos();
        let id: [u8; 4] = r.array()?;
        let declared = r.u32_le()?;
        let available = end - r.pos();
        let size = if &id == b"data" && declared == u32::MAX {
            available
        } else {
            usize::try_from(declared).map_err(|_| r.truncated())?
        };
        if size > available {
            return Err(r.truncated());
        }
        let body = r.take(size)?;
        // Chunks are padded to an even size; the pad may be missing at the end.
        if size % 2 == 1 && r.pos() < end {
            r.skip(1)?;
        }
        match &id {
            b"fmt " => {
                if format.is_some() {
                    return Err(invalid("the WAV file has two formats"));
                }
                format = Some(parse_format(body)?);
            }
            b"data" => {
                if format.is_none() {
                    return Err(invalid("the WAV samples come before their format"));
                }
                if data_len.is_some() {
                    return Err(invalid("the WAV file has two sample chunks"));
                }
                data_len = Some(size);
            }
            id if METADATA_CHUNKS.contains(&id) => blank.push((at, size)),
            _ => {}
        }
    }
    // A few stray bytes after the last chunk are tolerated.
    if end - r.pos() >= 8 {
        return Err(r.truncated());
    }
    let format = format.ok_or_else(|| invalid("the WAV file has no format chunk"))?;
    let data_len = data_len.ok_or_else(|| invalid("the WAV file has no samples"))?;
    let bytes_per_second = match format.tag {
        // Integer and float PCM, and WAVE_FORMAT_EXTENSIBLE: exact.
        1 | 3 | 0xFFFE if format.block_align > 0 => {
            u64::from(format.sample_rate) * u64::from(format.block_align)
        }
        _ => u64::from(format.byte_rate),
    };
    if bytes_per_second == 0 {
        return Err(invalid("the WAV format has no byte rate"));
    }
    let duration_secs = seconds(
        u64::try_from(data_len).unwrap_or(u64::MAX),
        bytes_per_second,
    );
    let cleaned = (!blank.is_empty()).then(|| {
        let mut out = bytes.to_vec();
        for (at, size) in blank {
            out[at..at + 4].copy_from_slice(b"JUNK");
            out[at + 8..at + 8 + size].fill(0);
        }
        out
    });
    Ok(Probe {
        kind: MediaKind::Audio,
        content_type: "audio/wav",
        duration_secs,
        video: None,
        audio: Some(AudioInfo {
            codec: codec_name(&format),
            sample_rate: Some(format.sample_rate),
            channels: Some(u32::from(format.channels)),
        }),
        cleaned,
    })
}

fn parse_format(body: &[u8]) -> Result<Format, MediaError> {
    let mut r = Reader::new(body, "WAV");
    let mut format = Format {
        tag: r.u16_le()?,
        channels: r.u16_le()?,
        sample_rate: r.u32_le()?,
        byte_rate: r.u32_le()?,
        block_align: r.u16_le()?,
        bits: r.u16_le()?,
    };
    if format.tag == 0xFFFE {
        // cbSize, valid bits, channel mask, then the sub-format GUID whose
        // first two bytes are the real format tag.
        if r.u16_le()? >= 22 {
            r.skip(6)?;
            format.tag = r.u16_le()?;
        }
    }
    if format.channels == 0 || format.sample_rate == 0 {
        return Err(invalid("the WAV format has no channels or no sample rate"));
    }
    Ok(format)
}

fn codec_name(format: &Format) -> Option<&'static str> {
    Some(match (format.tag, format.bits) {
        (1, 8) => "pcm_u8",
        (1, 16) => "pcm_s16le",
        (1, 24) => "pcm_s24le",
        (1, 32) => "pcm_s32le",
        (3, 32) => "pcm_f32le",
        (3, 64) => "pcm_f64le",
        (6, _) => "pcm_alaw",
        (7, _) => "pcm_mulaw",
        (0x55, _) => "mp3",
        _ => return None,
    })
}
