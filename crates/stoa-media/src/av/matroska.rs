//! WebM (Matroska with the `webm` document type): EBML elements, each an id
//! and a size. Only the elements needed are read, at their fixed depth (no
//! recursion): the segment's `Info` (timestamp scale, duration), `Tracks`
//! (type, codec, picture size, frame duration, sample rate, channels) and
//! the clusters' block timestamps, which give the duration when `Info` has
//! none (browser recordings). Every element must fit in its parent.

use super::read::{invalid, Reader};
use super::{AudioInfo, FrameRate, Probe, VideoInfo};
use crate::{Dimensions, MediaError, MediaKind};

const EBML: u32 = 0x1A45_DFA3;
const DOC_TYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const SEEK_HEAD: u32 = 0x114D_9B74;
const INFO: u32 = 0x1549_A966;
const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
const DURATION: u32 = 0x4489;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_NUMBER: u32 = 0xD7;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const DEFAULT_DURATION: u32 = 0x23_E383;
const VIDEO: u32 = 0xE0;
const PIXEL_WIDTH: u32 = 0xB0;
const PIXEL_HEIGHT: u32 = 0xBA;
const AUDIO: u32 = 0xE1;
const SAMPLING_FREQUENCY: u32 = 0xB5;
const CHANNELS: u32 = 0x9F;
const CLUSTER: u32 = 0x1F43_B675;
const CLUSTER_TIMESTAMP: u32 = 0xE7;
const SIMPLE_BLOCK: u32 = 0xA3;
const BLOCK_GROUP: u32 = 0xA0;
const BLOCK: u32 = 0xA1;
const BLOCK_DURATION: u32 = 0x9B;
const CUES: u32 = 0x1C53_BB6B;
const CHAPTERS: u32 = 0x1043_A770;
const TAGS: u32 = 0x1254_C367;
const ATTACHMENTS: u32 = 0x1941_A469;
const VOID: u32 = 0xEC;

/// Children of a segment: where a cluster of unknown size ends.
const TOP_LEVEL: [u32; 8] = [
    SEEK_HEAD,
    INFO,
    TRACKS,
    CLUSTER,
    CUES,
    CHAPTERS,
    TAGS,
    ATTACHMENTS,
];

struct Header {
    id: u32,
    /// `None`: unknown size (all value bits set), allowed for segments and
    /// clusters only.
    size: Option<usize>,
    /// Where the element starts and how long its id and size are.
    start: usize,
    header_len: usize,
}

fn read_header(r: &mut Reader) -> Result<Header, MediaError> {
    let start = r.pos();
    let first = r.u8()?;
    let id_len = first.leading_zeros() + 1;
    if first == 0 || id_len > 4 {
        return Err(invalid("an element id is invalid"));
    }
    let mut id = u32::from(first);
    for _ in 1..id_len {
        id = (id << 8) | u32::from(r.u8()?);
    }
    let first = r.u8()?;
    if first == 0 {
        return Err(invalid("an element size is invalid"));
    }
    let size_len = first.leading_zeros() + 1;
    let mask = u8::try_from(0xFFu16 >> size_len).unwrap_or(0);
    let mut value = u64::from(first & mask);
    let mut all_ones = first & mask == mask;
    for _ in 1..size_len {
        let b = r.u8()?;
        value = (value << 8) | u64::from(b);
        all_ones &= b == 0xFF;
    }
    let size = if all_ones {
        None
    } else {
        Some(usize::try_from(value).map_err(|_| r.truncated())?)
    };
    Ok(Header {
        id,
        size,
        start,
        header_len: r.pos() - start,
    })
}

/// The body of an element of known size, which must fit before `end`.
fn body<'a>(r: &mut Reader<'a>, header: &Header, end: usize) -> Result<&'a [u8], MediaError> {
    let size = header
        .size
        .ok_or_else(|| invalid("an element has an unknown size"))?;
    if size > end.saturating_sub(r.pos()) {
        return Err(r.truncated());
    }
    r.take(size)
}

/// Calls `each` with the id and body of every child of `parent`.
fn children<'a>(
    parent: &'a [u8],
    mut each: impl FnMut(u32, &'a [u8]) -> Result<(), MediaError>,
) -> Result<(), MediaError> {
    let mut r = Reader::new(parent, "WebM");
    while r.remaining() > 0 {
        let header = read_header(&mut r)?;
        let data = body(&mut r, &header, parent.len())?;
        each(header.id, data)?;
    }
    Ok(())
}

fn uint(data: &[u8]) -> Result<u64, MediaError> {
    if data.len() > 8 {
        return Err(invalid("an integer element is too long"));
    }
    Ok(data.iter().fold(0, |v, &b| (v << 8) | u64::from(b)))
}

fn float(data: &[u8]) -> Result<f64, MediaError> {
    match *data {
        [] => Ok(0.0),
        [a, b, c, d] => Ok(f64::from(f32::from_be_bytes([a, b, c, d]))),
        [a, b, c, d, e, f, g, h] => Ok(f64::from_be_bytes([a, b, c, d, e, f, g, h])),
        _ => Err(invalid("a float element has an invalid size")),
    }
}

#[derive(Default, Clone)]
struct Track {
    number: u64,
    kind: u64,
    codec: Option<&'static str>,
    default_duration_ns: Option<u64>,
    width: u64,
    height: u64,
    sample_rate: Option<f64>,
    channels: Option<u64>,
}

struct State {
    /// Nanoseconds per timestamp unit.
    scale: u64,
    /// From `Info`, in timestamp units.
    duration: Option<f64>,
    video: Option<Track>,
    audio: Option<Track>,
    /// Latest end of a block seen, in seconds.
    blocks_end: f64,
    video_frames: u64,
    /// Tags and attachments, to become `Void` elements: start and length.
    blank: Vec<(usize, usize)>,
}

pub(crate) fn probe(bytes: &[u8]) -> Result<Probe, MediaError> {
    let mut r = Reader::new(bytes, "WebM");
    let header = read_header(&mut r)?;
    if header.id != EBML {
        return Err(invalid("not an EBML file"));
    }
    let mut doc_type = None;
    children(body(&mut r, &header, bytes.len())?, |id, data| {
        if id == DOC_TYPE {
            doc_type = Some(data.strip_suffix(&[0]).unwrap_or(data));
        }
        Ok(())
    })?;
    if doc_type != Some(b"webm".as_slice()) {
        return Err(invalid("not a WebM file"));
    }
    let segment = loop {
        let header = read_header(&mut r)?;
        match header.id {
            SEGMENT => break header,
            VOID => {
                body(&mut r, &header, bytes.len())?;
            }
            _ => return Err(invalid("the WebM file has no segment")),
        }
    };
    let end = match segment.size {
        Some(size) if size > r.remaining() => return Err(r.truncated()),
        Some(size) => r.pos() + size,
        None => bytes.len(),
    };
    let mut state = State {
        scale: 1_000_000,
        duration: None,
        video: None,
        audio: None,
        blocks_end: 0.0,
        video_frames: 0,
        blank: Vec::new(),
    };
    while r.pos() < end {
        let header = read_header(&mut r)?;
        if header.id == CLUSTER && header.size.is_none() {
            read_open_cluster(&mut r, end, &mut state)?;
            continue;
        }
        let data = body(&mut r, &header, end)?;
        match header.id {
            INFO => read_info(data, &mut state)?,
            TRACKS => read_tracks(data, &mut state)?,
            CLUSTER => {
                let mut cluster_time = 0;
                children(data, |id, child| {
                    cluster_child(id, child, &mut cluster_time, &mut state)
                })?;
            }
            TAGS | ATTACHMENTS => state
                .blank
                .push((header.start, header.header_len + data.len())),
            _ => {}
        }
    }
    finish(bytes, state)
}

/// A cluster of unknown size: its children run until the next top-level
/// element or the end of the segment.
fn read_open_cluster(r: &mut Reader, end: usize, state: &mut State) -> Result<(), MediaError> {
    let mut cluster_time = 0;
    while r.pos() < end {
        let at = r.pos();
        let header = read_header(r)?;
        if TOP_LEVEL.contains(&header.id) || header.id == EBML {
            r.rewind(at);
            break;
        }
        let data = body(r, &header, end)?;
        cluster_child(header.id, data, &mut cluster_time, state)?;
    }
    Ok(())
}

fn cluster_child(
    id: u32,
    data: &[u8],
    cluster_time: &mut u64,
    state: &mut State,
) -> Result<(), MediaError> {
    match id {
        CLUSTER_TIMESTAMP => *cluster_time = uint(data)?,
        SIMPLE_BLOCK => block(data, None, *cluster_time, state)?,
        BLOCK_GROUP => {
            let mut block_data = None;
            let mut duration = None;
            children(data, |id, child| {
                match id {
                    BLOCK => block_data = Some(child),
                    BLOCK_DURATION => duration = Some(uint(child)?),
                    _ => {}
                }
                Ok(())
            })?;
            if let Some(data) = block_data {
                block(data, duration, *cluster_time, state)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A block: track number, timestamp relative to its cluster, flags, frames.
fn block(
    data: &[u8],
    duration: Option<u64>,
    cluster_time: u64,
    state: &mut State,
) -> Result<(), MediaError> {
    let mut r = Reader::new(data, "WebM");
    let first = r.u8()?;
    let len = first.leading_zeros() + 1;
    if first == 0 || len > 8 {
        return Err(invalid("a block's track number is invalid"));
    }
    let mask = u8::try_from(0xFFu16 >> len).unwrap_or(0);
    let mut track = u64::from(first & mask);
    for _ in 1..len {
        track = (track << 8) | u64::from(r.u8()?);
    }
    let relative = i16::from_be_bytes(r.array()?);
    let flags = r.u8()?;
    let frames = if flags & 0x06 != 0 {
        u64::from(r.u8()?) + 1
    } else {
        1
    };
    let unit_secs = scale_secs(state.scale);
    // Precision loss past 2^52 units is irrelevant for a duration.
    #[allow(clippy::cast_precision_loss)]
    let start = (cluster_time as f64 + f64::from(relative)) * unit_secs;
    let of_track = [&state.video, &state.audio]
        .into_iter()
        .flatten()
        .find(|t| t.number == track);
    #[allow(clippy::cast_precision_loss)]
    let length = match (duration, of_track.and_then(|t| t.default_duration_ns)) {
        (Some(units), _) => units as f64 * unit_secs,
        (None, Some(ns)) => ns as f64 * 1e-9 * frames as f64,
        (None, None) => 0.0,
    };
    state.blocks_end = state.blocks_end.max(start + length);
    if state.video.as_ref().is_some_and(|v| v.number == track) {
        state.video_frames = state.video_frames.saturating_add(frames);
    }
    Ok(())
}

/// Seconds per timestamp unit.
fn scale_secs(scale_ns: u64) -> f64 {
    // Exact below 2^53 ns (104 days per unit).
    #[allow(clippy::cast_precision_loss)]
    let ns = scale_ns as f64;
    ns * 1e-9
}

fn read_info(data: &[u8], state: &mut State) -> Result<(), MediaError> {
    children(data, |id, child| {
        match id {
            TIMESTAMP_SCALE => {
                state.scale = uint(child)?;
                if state.scale == 0 {
                    return Err(invalid("the timestamp scale is zero"));
                }
            }
            DURATION => state.duration = Some(float(child)?),
            _ => {}
        }
        Ok(())
    })
}

fn read_tracks(data: &[u8], state: &mut State) -> Result<(), MediaError> {
    children(data, |id, entry| {
        if id != TRACK_ENTRY {
            return Ok(());
        }
        let mut track = Track::default();
        children(entry, |id, child| {
            match id {
                TRACK_NUMBER => track.number = uint(child)?,
                TRACK_TYPE => track.kind = uint(child)?,
                CODEC_ID => track.codec = codec_name(child),
                DEFAULT_DURATION => track.default_duration_ns = Some(uint(child)?),
                VIDEO => children(child, |id, v| {
                    match id {
                        PIXEL_WIDTH => track.width = uint(v)?,
                        PIXEL_HEIGHT => track.height = uint(v)?,
                        _ => {}
                    }
                    Ok(())
                })?,
                AUDIO => children(child, |id, a| {
                    match id {
                        SAMPLING_FREQUENCY => track.sample_rate = Some(float(a)?),
                        CHANNELS => track.channels = Some(uint(a)?),
                        _ => {}
                    }
                    Ok(())
                })?,
                _ => {}
            }
            Ok(())
        })?;
        match track.kind {
            1 if state.video.is_none() => state.video = Some(track),
            2 if state.audio.is_none() => state.audio = Some(track),
            _ => {}
        }
        Ok(())
    })
}

fn codec_name(id: &[u8]) -> Option<&'static str> {
    let id = id.strip_suffix(&[0]).unwrap_or(id);
    Some(match id {
        b"A_OPUS" => "opus",
        b"A_VORBIS" => "vorbis",
        b"A_FLAC" => "flac",
        b"A_MPEG/L3" => "mp3",
        b"A_PCM/INT/LIT" => "pcm",
        b"V_VP8" => "vp8",
        b"V_VP9" => "vp9",
        b"V_AV1" => "av1",
        b"V_MPEG4/ISO/AVC" => "h264",
        id if id.starts_with(b"A_AAC") => "aac",
        _ => return None,
    })
}

fn finish(bytes: &[u8], state: State) -> Result<Probe, MediaError> {
    let unit_secs = scale_secs(state.scale);
    let duration_secs = match state.duration {
        Some(units) if units.is_finite() && units > 0.0 => units * unit_secs,
        _ => state.blocks_end,
    };
    let video = match &state.video {
        Some(track) => {
            let width = u32::try_from(track.width).unwrap_or(u32::MAX);
            let height = u32::try_from(track.height).unwrap_or(u32::MAX);
            #[allow(clippy::cast_precision_loss)]
            let frame_rate = match track.default_duration_ns {
                Some(ns) => FrameRate::from_ratio(1_000_000_000, u128::from(ns)),
                None if duration_secs > 0.0 && state.video_frames > 1 => {
                    FrameRate::from_f64(state.video_frames as f64 / duration_secs)
                }
                None => None,
            };
            Some(VideoInfo {
                size: Dimensions { width, height },
                frame_rate,
            })
        }
        None => None,
    };
    let audio = state.audio.as_ref().map(|track| AudioInfo {
        codec: track.codec,
        // Rounded; sampling frequencies are whole numbers in practice.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        sample_rate: track
            .sample_rate
            .filter(|r| r.is_finite() && *r >= 1.0 && *r <= 1e7)
            .map(|r| r.round() as u32),
        channels: track.channels.and_then(|c| u32::try_from(c).ok()),
    });
    if video.is_none() && audio.is_none() {
        return Err(invalid("the WebM file has no audio or video track"));
    }
    let cleaned = (!state.blank.is_empty()).then(|| {
        let mut out = bytes.to_vec();
        for (start, len) in &state.blank {
            write_void(&mut out[*start..*start + *len]);
        }
        out
    });
    Ok(Probe {
        kind: if video.is_some() {
            MediaKind::Video
        } else {
            MediaKind::Audio
        },
        content_type: if video.is_some() {
            "video/webm"
        } else {
            "audio/webm"
        },
        duration_secs,
        video,
        audio,
        cleaned,
    })
}

/// Overwrites an element (at least 5 bytes: a 4-byte id and its size) with
/// a `Void` element of the same length, zero-filled.
fn write_void(element: &mut [u8]) {
    let total = element.len();
    // 0xEC, then the size in 8 bytes, or fewer for short elements.
    let size_len = (total - 1).min(8);
    let payload = total - 1 - size_len;
    element.fill(0);
    element[0] = 0xEC;
    let size_bytes = u64::try_from(payload).unwrap_or(0).to_be_bytes();
    let field = &mut element[1..=size_len];
    field.copy_from_slice(&size_bytes[8 - size_len..]);
    // The length marker: the bit just above the value's 7 × size_len bits.
    field[0] |= 0x80 >> (size_len - 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voids_keep_the_length() {
        for total in [5, 9, 10, 300] {
            let mut element = vec![0xAA; total];
            write_void(&mut element);
            let mut r = Reader::new(&element, "test");
            let header = read_header(&mut r).expect("a header");
            assert_eq!(header.id, VOID);
            assert_eq!(header.header_len + header.size.expect("known"), total);
        }
    }

    #[test]
    fn sizes_of_unknown_length() {
        let mut r = Reader::new(
            &[
                0x1F, 0x43, 0xB6, 0x75, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            ],
            "test",
        );
        let header = read_header(&mut r).expect("a header");
        assert_eq!((header.id, header.size), (CLUSTER, None));
        let mut r = Reader::new(&[0xEC, 0xFF], "test");
        assert_eq!(read_header(&mut r).expect("a header").size, None);
        let mut r = Reader::new(&[0x00, 0x81], "test");
        assert!(read_header(&mut r).is_err());
    }
}
