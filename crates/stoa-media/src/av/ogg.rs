//! Ogg: a sequence of pages, each belonging to a logical stream. The first
//! page of each stream (BOS) starts with the codec's identification header;
//! the granule position of the last page of a stream says how far it plays.
//! Vorbis, Opus and FLAC (audio) and Theora (video) are understood; other
//! streams (Skeleton, Speex…) are skipped. Pages must follow each other to
//! the end of the file. Page checksums are not verified (nothing is decoded).

use super::read::{invalid, Reader};
use super::{seconds, AudioInfo, FrameRate, Probe, VideoInfo};
use crate::{Dimensions, MediaError, MediaKind};

/// Most logical streams accepted in one file.
const MAX_STREAMS: usize = 16;

#[derive(Debug, Clone, Copy)]
enum Codec {
    Vorbis { rate: u32, channels: u32 },
    Opus { pre_skip: u64, channels: u32 },
    Flac { rate: u32, channels: u32 },
    Theora(Theora),
}

#[derive(Debug, Clone, Copy)]
struct Theora {
    size: Dimensions,
    /// Frames per second as FRN / FRD.
    frn: u32,
    frd: u32,
    /// Bits of the granule position counting frames since the last keyframe.
    shift: u32,
}

struct Stream {
    serial: u32,
    codec: Option<Codec>,
    last_granule: Option<u64>,
}

pub(crate) fn probe(bytes: &[u8]) -> Result<Probe, MediaError> {
    let mut r = Reader::new(bytes, "Ogg");
    let mut streams: Vec<Stream> = Vec::new();
    while r.remaining() > 0 {
        if r.take(4)? != b"OggS" {
            return Err(invalid("an Ogg page is damaged"));
        }
        if r.u8()? != 0 {
            return Err(invalid("unknown Ogg version"));
        }
        let flags = r.u8()?;
        let granule = r.i64_le()?;
        let serial = r.u32_le()?;
        r.skip(8)?; // page sequence number, checksum
        let segments = usize::from(r.u8()?);
        let lacing = r.take(segments)?;
        let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
        let body = r.take(body_len)?;
        let known = streams.iter().position(|s| s.serial == serial);
        let index = match (flags & 0x02 != 0, known) {
            (true, Some(_)) => return Err(invalid("an Ogg stream starts twice")),
            (true, None) => {
                if streams.len() == MAX_STREAMS {
                    return Err(invalid("the Ogg file has too many streams"));
                }
                // The identification header is the first packet of the page.
                let first_len = lacing.iter().position(|&l| l < 255).map_or(body_len, |i| {
                    lacing[..=i].iter().map(|&l| usize::from(l)).sum()
                });
                streams.push(Stream {
                    serial,
                    codec: identify(&body[..first_len])?,
                    last_granule: None,
                });
                streams.len() - 1
            }
            (false, Some(index)) => index,
            (false, None) => return Err(invalid("an Ogg page belongs to no stream")),
        };
        // -1: no packet ends on this page.
        if let Ok(granule) = u64::try_from(granule) {
            let stream = &mut streams[index];
            stream.last_granule = Some(stream.last_granule.map_or(granule, |g| g.max(granule)));
        }
    }
    let mut duration_secs: f64 = 0.0;
    let mut video = None;
    let mut audio = None;
    for stream in &streams {
        let (Some(codec), Some(granule)) = (stream.codec, stream.last_granule) else {
            continue;
        };
        let seconds = match codec {
            Codec::Vorbis { rate, channels } | Codec::Flac { rate, channels } => {
                audio.get_or_insert(AudioInfo {
                    codec: Some(if matches!(codec, Codec::Flac { .. }) {
                        "flac"
                    } else {
                        "vorbis"
                    }),
                    sample_rate: Some(rate),
                    channels: Some(channels),
                });
                seconds(granule, u64::from(rate))
            }
            Codec::Opus { pre_skip, channels } => {
                audio.get_or_insert(AudioInfo {
                    codec: Some("opus"),
                    sample_rate: Some(48_000),
                    channels: Some(channels),
                });
                seconds(granule.saturating_sub(pre_skip), 48_000)
            }
            Codec::Theora(theora) => {
                video.get_or_insert(VideoInfo {
                    size: theora.size,
                    frame_rate: FrameRate::from_ratio(
                        u128::from(theora.frn),
                        u128::from(theora.frd),
                    ),
                });
                // The shift is 5 bits wide: at most 31.
                let frames = (granule >> theora.shift) + (granule & ((1u64 << theora.shift) - 1));
                if theora.frn == 0 {
                    0.0
                } else {
                    // frames × FRD / FRN
                    seconds(frames, 1) * f64::from(theora.frd) / f64::from(theora.frn)
                }
            }
        };
        duration_secs = duration_secs.max(seconds);
    }
    if video.is_none() && audio.is_none() {
        return Err(invalid(
            "the Ogg file has no Vorbis, Opus, FLAC or Theora stream",
        ));
    }
    Ok(Probe {
        kind: if video.is_some() {
            MediaKind::Video
        } else {
            MediaKind::Audio
        },
        content_type: if video.is_some() {
            "video/ogg"
        } else {
            "audio/ogg"
        },
        duration_secs,
        video,
        audio,
        cleaned: None,
    })
}

/// The codec of a stream from its identification header; `None` for
/// streams that are neither audio nor video we know.
fn identify(packet: &[u8]) -> Result<Option<Codec>, MediaError> {
    let mut r = Reader::new(packet, "Ogg");
    if packet.starts_with(b"\x01vorbis") {
        r.skip(7)?;
        if r.u32_le()? != 0 {
            return Err(invalid("unknown Vorbis version"));
        }
        let channels = u32::from(r.u8()?);
        let rate = r.u32_le()?;
        if channels == 0 || rate == 0 {
            return Err(invalid("the Vorbis stream has no channels or no rate"));
        }
        return Ok(Some(Codec::Vorbis { rate, channels }));
    }
    if packet.starts_with(b"OpusHead") {
        r.skip(8)?;
        let _version = r.u8()?;
        let channels = u32::from(r.u8()?);
        let pre_skip = u64::from(r.u16_le()?);
        if channels == 0 {
            return Err(invalid("the Opus stream has no channels"));
        }
        return Ok(Some(Codec::Opus { pre_skip, channels }));
    }
    if packet.starts_with(b"\x7FFLAC") {
        // Mapping version (2), header count (2), "fLaC", block header (4).
        r.skip(5 + 4)?;
        if r.take(4)? != b"fLaC" {
            return Err(invalid("the Ogg FLAC header is damaged"));
        }
        r.skip(4)?;
        let info = super::flac::parse_streaminfo(r.take(34)?)?;
        return Ok(Some(Codec::Flac {
            rate: info.sample_rate,
            channels: info.channels,
        }));
    }
    if packet.starts_with(b"\x80theora") {
        r.skip(7 + 3)?; // signature, version
        r.skip(4)?; // frame size in macroblocks
        let width = r.u24_be()?;
        let height = r.u24_be()?;
        r.skip(2)?; // picture offset
        let frn = r.u32_be()?;
        let frd = r.u32_be()?;
        r.skip(3 + 3 + 1 + 3)?; // aspect ratio, colour space, bitrate
        let [quality_shift, shift_flags] = r.array::<2>()?;
        let shift = (u32::from(quality_shift & 0x03) << 3) | u32::from(shift_flags >> 5);
        return Ok(Some(Codec::Theora(Theora {
            size: Dimensions { width, height },
            frn,
            frd,
            shift,
        })));
    }
    Ok(None)
}
