//! MP4, QuickTime, 3GPP and M4A (ISO base media files): boxes, each a size
//! and a type. The top-level boxes are walked here (each must fit in the
//! file) and metadata boxes blanked; the movie box is then read by Mozilla's
//! `mp4parse`, which is fuzzed and used by Firefox, and whose allocations
//! are fallible and bounded by the boxes they are read from.

use std::io::Cursor;

use mp4parse::{CodecType, SampleEntry, Track, TrackType};

use super::read::invalid;
use super::{seconds, AudioInfo, FrameRate, Probe, VideoInfo};
use crate::{Dimensions, MediaError, MediaKind};

/// The `uuid` of XMP packets stored as a top-level box.
const XMP_UUID: [u8; 16] = [
    0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC,
];

#[derive(Debug, Clone, Copy)]
struct BoxRef {
    start: usize,
    /// Size and type (and large size): where the content starts.
    content: usize,
    end: usize,
    kind: [u8; 4],
}

/// Calls `each` for every box between `from` and `to`. Each box must fit;
/// a box of size 0 runs to `to`. At the top level, fewer than 8 zero bytes
/// after the last box are tolerated.
fn walk(
    bytes: &[u8],
    from: usize,
    to: usize,
    top_level: bool,
    mut each: impl FnMut(BoxRef) -> Result<(), MediaError>,
) -> Result<(), MediaError> {
    let truncated = || invalid("the MP4 file is truncated");
    let mut pos = from;
    while pos < to {
        let rest = &bytes[pos..to];
        if rest.len() < 8 {
            if top_level && rest.iter().all(|&b| b == 0) {
                return Ok(());
            }
            return Err(truncated());
        }
        let size32 = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let kind = [rest[4], rest[5], rest[6], rest[7]];
        let (size, content) = match size32 {
            0 => (rest.len(), 8),
            1 => {
                let large = rest.get(8..16).ok_or_else(truncated)?;
                let mut be = [0; 8];
                be.copy_from_slice(large);
                let size = usize::try_from(u64::from_be_bytes(be)).map_err(|_| truncated())?;
                (size, 16)
            }
            n => (usize::try_from(n).map_err(|_| truncated())?, 8),
        };
        if size < content {
            return Err(invalid("an MP4 box has an invalid size"));
        }
        if size > rest.len() {
            return Err(truncated());
        }
        each(BoxRef {
            start: pos,
            content: pos + content,
            end: pos + size,
            kind,
        })?;
        pos += size;
    }
    Ok(())
}

/// Metadata boxes to blank: `udta` and `meta` at the top level, in the
/// movie and in tracks (titles, GPS location, camera and software, cover
/// art), and top-level XMP.
fn metadata_boxes(bytes: &[u8]) -> Result<(Vec<BoxRef>, bool), MediaError> {
    let mut blank = Vec::new();
    let mut has_movie = false;
    walk(bytes, 0, bytes.len(), true, |b| {
        match &b.kind {
            b"udta" | b"meta" => blank.push(b),
            b"uuid" if bytes.get(b.content..b.content + 16) == Some(XMP_UUID.as_slice()) => {
                blank.push(b);
            }
            b"moov" => {
                has_movie = true;
                walk(bytes, b.content, b.end, false, |child| {
                    match &child.kind {
                        b"udta" | b"meta" => blank.push(child),
                        b"trak" => walk(bytes, child.content, child.end, false, |grandchild| {
                            if matches!(&grandchild.kind, b"udta" | b"meta") {
                                blank.push(grandchild);
                            }
                            Ok(())
                        })?,
                        _ => {}
                    }
                    Ok(())
                })?;
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok((blank, has_movie))
}

fn mp4_error(e: mp4parse::Error) -> MediaError {
    use mp4parse::Error;
    match e {
        Error::UnexpectedEOF => invalid("the MP4 file is truncated"),
        Error::MoovMissing => invalid("the MP4 file has no movie box"),
        Error::InvalidData(status) => {
            invalid(format!("invalid MP4 data: {}", <&str>::from(status)))
        }
        Error::Unsupported(what) => invalid(format!("unsupported MP4 feature: {what}")),
        Error::OutOfMemory => invalid("the MP4 file declares tables too large to read"),
        Error::Io(e) => invalid(format!("the MP4 file could not be read: {e}")),
    }
}

pub(crate) fn probe(bytes: &[u8], sniffed: &'static str) -> Result<Probe, MediaError> {
    let (blank, has_movie) = metadata_boxes(bytes)?;
    if !has_movie {
        return Err(invalid("the MP4 file has no movie box"));
    }
    let cleaned = (!blank.is_empty()).then(|| {
        let mut out = bytes.to_vec();
        for b in &blank {
            out[b.start + 4..b.start + 8].copy_from_slice(b"free");
            out[b.content..b.end].fill(0);
        }
        out
    });
    // What is stored is what is read.
    let stored = cleaned.as_deref().unwrap_or(bytes);
    let context = mp4parse::read_mp4(&mut Cursor::new(stored)).map_err(mp4_error)?;

    let mut duration_secs: f64 = 0.0;
    let mut video = None;
    let mut audio = None;
    for track in context.tracks.iter() {
        match track.track_type {
            TrackType::Video => {
                if video.is_none() {
                    video = Some(video_info(track)?);
                }
            }
            TrackType::Audio => {
                if audio.is_none() {
                    audio = Some(audio_info(track));
                }
            }
            _ => continue,
        }
        duration_secs = duration_secs.max(track_secs(track));
    }
    if duration_secs <= 0.0 {
        // Fragmented files: the movie extends header may give the duration.
        if let (Some(mvex), Some(timescale)) = (&context.mvex, context.timescale) {
            if let Some(fragments) = mvex.fragment_duration {
                duration_secs = seconds(fragments.0, timescale.0);
            }
        }
    }
    let (kind, content_type) = match (&video, &audio) {
        (Some(_), _) if sniffed == "audio/mp4" => (MediaKind::Video, "video/mp4"),
        (Some(_), _) => (MediaKind::Video, sniffed),
        (None, Some(_)) => (MediaKind::Audio, "audio/mp4"),
        (None, None) => return Err(invalid("the MP4 file has no audio or video track")),
    };
    Ok(Probe {
        kind,
        content_type,
        duration_secs,
        video,
        audio,
        cleaned,
    })
}

/// Duration and ticks per second of a track (`mdhd`), when known.
fn track_ticks(track: &Track) -> Option<(u64, u64)> {
    let duration = track.duration?.0;
    let timescale = track.timescale?.0;
    (duration != u64::MAX && timescale > 0).then_some((duration, timescale))
}

fn track_secs(track: &Track) -> f64 {
    track_ticks(track).map_or(0.0, |(duration, timescale)| seconds(duration, timescale))
}

fn video_info(track: &Track) -> Result<VideoInfo, MediaError> {
    let entry = track
        .stsd
        .iter()
        .flat_map(|stsd| stsd.descriptions.iter())
        .find_map(|d| match d {
            SampleEntry::Video(v) => Some(v),
            _ => None,
        });
    // The coded size, as ffprobe reports it; the track header (16.16 fixed
    // point) for codecs mp4parse does not describe (HEVC).
    let (mut width, mut height) = match entry {
        Some(v) if v.width > 0 && v.height > 0 => (u32::from(v.width), u32::from(v.height)),
        _ => track
            .tkhd
            .as_ref()
            .map_or((0, 0), |t| (t.width >> 16, t.height >> 16)),
    };
    // A quarter turn in the track matrix (phones filming upright).
    if let Some(tkhd) = &track.tkhd {
        let m = &tkhd.matrix;
        if m.a == 0 && m.d == 0 && m.b != 0 && m.c != 0 {
            (width, height) = (height, width);
        }
    }
    if width == 0 || height == 0 {
        return Err(invalid("the video track has no picture size"));
    }
    let frames: u64 = track.stts.as_ref().map_or(0, |stts| {
        stts.samples
            .iter()
            .fold(0u64, |n, s| n.saturating_add(u64::from(s.sample_count)))
    });
    let frame_rate = track_ticks(track).and_then(|(duration, timescale)| {
        FrameRate::from_ratio(
            u128::from(frames) * u128::from(timescale),
            u128::from(duration),
        )
    });
    Ok(VideoInfo {
        size: Dimensions { width, height },
        frame_rate,
    })
}

fn audio_info(track: &Track) -> AudioInfo {
    let entry = track
        .stsd
        .iter()
        .flat_map(|stsd| stsd.descriptions.iter())
        .find_map(|d| match d {
            SampleEntry::Audio(a) => Some(a),
            _ => None,
        });
    let Some(entry) = entry else {
        return AudioInfo {
            codec: None,
            sample_rate: None,
            channels: None,
        };
    };
    let codec = match entry.codec_type {
        CodecType::AAC => Some("aac"),
        CodecType::MP3 => Some("mp3"),
        CodecType::Opus => Some("opus"),
        CodecType::FLAC => Some("flac"),
        CodecType::ALAC => Some("alac"),
        CodecType::LPCM => Some("pcm"),
        _ => None,
    };
    // Rounded; sample rates are whole numbers in practice.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let sample_rate = Some(entry.samplerate)
        .filter(|r| r.is_finite() && *r >= 1.0 && *r <= 1e7)
        .map(|r| r.round() as u32);
    AudioInfo {
        codec,
        sample_rate,
        channels: (entry.channelcount > 0).then_some(entry.channelcount),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], content: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(content.len() + 8)
            .expect("small")
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(content);
        out
    }

    #[test]
    fn walking_checks_every_size() {
        let file = [boxed(b"ftyp", b"isom\0\0\0\0"), boxed(b"free", b"abc")].concat();
        let mut kinds = Vec::new();
        walk(&file, 0, file.len(), true, |b| {
            kinds.push(b.kind);
            Ok(())
        })
        .expect("walks");
        assert_eq!(kinds, [*b"ftyp", *b"free"]);
        // Cut short, a size smaller than the header, a size past the end.
        assert!(walk(&file[..file.len() - 1], 0, file.len() - 1, true, |_| Ok(())).is_err());
        let mut bad = file.clone();
        bad[3] = 4;
        assert!(walk(&bad, 0, bad.len(), true, |_| Ok(())).is_err());
        let mut long = file.clone();
        long[3] = 200;
        assert!(walk(&long, 0, long.len(), true, |_| Ok(())).is_err());
        // A few zero bytes at the end are fine.
        let padded = [file.clone(), vec![0; 3]].concat();
        assert!(walk(&padded, 0, padded.len(), true, |_| Ok(())).is_ok());
    }
}
