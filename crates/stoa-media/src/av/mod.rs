//! Video and audio: the container is parsed in Rust, within the bounds of
//! the bytes given, to learn what the file is and how long it plays. Nothing
//! is decoded and no external program (ffmpeg or other) is run: the file is
//! stored as it was uploaded, except for metadata blocks that can be blanked
//! without moving anything else (see [`ProcessedAv::original`]).
//!
//! Containers and what is read from them:
//! - MP4, QuickTime, 3GPP, M4A (`isobmff`, with Mozilla's `mp4parse`):
//!   tracks, durations, picture size (with the rotation of the track), frame
//!   rate from the sample tables, audio codec, rate and channels.
//! - WebM (`matroska`): segment info, tracks, and the clusters (block
//!   timestamps and counts) when the header has no duration, as browsers'
//!   recordings do.
//! - Ogg (`ogg`): Vorbis, Opus, FLAC and Theora streams; the duration comes
//!   from the last granule position of each stream.
//! - MP3 and AAC in ADTS (`mpeg`): every frame header is walked; the frames
//!   must follow each other to the end of the file (tags aside).
//! - FLAC (`flac`): STREAMINFO and the metadata blocks.
//! - WAV (`wav`): the RIFF chunks.
//!
//! No thumbnail is made for video: that needs a decoder for each codec.

mod flac;
mod isobmff;
mod matroska;
mod mpeg;
mod ogg;
mod read;
mod wav;

use std::fmt;

use crate::{sniff, Dimensions, Limits, MediaError, MediaKind};

/// A frame rate as a fraction, as in Mastodon's `meta.original.frame_rate`
/// (`"30/1"`, `"30000/1001"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRate {
    pub numerator: u32,
    pub denominator: u32,
}

impl FrameRate {
    /// `numerator / denominator` in lowest terms; `None` when either is zero.
    /// Fractions that do not fit in 32 bits are rounded to thousandths.
    pub fn from_ratio(numerator: u128, denominator: u128) -> Option<FrameRate> {
        if let Some(rate) = Self::reduced(numerator, denominator) {
            return Some(rate);
        }
        if numerator == 0 || denominator == 0 {
            return None;
        }
        // Thousandths of a frame per second: n * 1000 / d, rounded.
        let divisor = gcd(numerator, denominator);
        let (n, d) = (numerator / divisor, denominator / divisor);
        let thousandths = n.checked_mul(1000)?.checked_add(d / 2)? / d;
        Self::reduced(thousandths, 1000)
    }

    fn reduced(numerator: u128, denominator: u128) -> Option<FrameRate> {
        if numerator == 0 || denominator == 0 {
            return None;
        }
        let divisor = gcd(numerator, denominator);
        Some(FrameRate {
            numerator: u32::try_from(numerator / divisor).ok()?,
            denominator: u32::try_from(denominator / divisor).ok()?,
        })
    }

    /// The nearest fraction with a denominator of 1000, reduced.
    pub fn from_f64(frames_per_second: f64) -> Option<FrameRate> {
        if !frames_per_second.is_finite() || frames_per_second <= 0.0 {
            return None;
        }
        // Bounded by the check above and the cap: the cast cannot wrap.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let thousandths = (frames_per_second.min(1e9) * 1000.0).round() as u128;
        Self::from_ratio(thousandths, 1000)
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.numerator) / f64::from(self.denominator)
    }
}

impl fmt::Display for FrameRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The picture of a video.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoInfo {
    /// As displayed: a track rotated by a quarter turn has its sides swapped.
    pub size: Dimensions,
    pub frame_rate: Option<FrameRate>,
}

/// The sound of a video or audio file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioInfo {
    /// Short codec name, like ffprobe's: `aac`, `mp3`, `opus`, `vorbis`,
    /// `flac`, `pcm_s16le`… `None` when the container does not say.
    pub codec: Option<&'static str>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
}

/// The result of [`process_av`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedAv {
    /// The file to store: the upload's bytes, with metadata blocks blanked
    /// where that moves nothing else (MP4/MOV `udta` and `meta` boxes and XMP
    /// become `free` boxes of the same size; WebM `Tags` and `Attachments`
    /// become `Void`; FLAC comments and pictures become padding; WAV `LIST`,
    /// `id3 `, `bext`, `iXML` and `_PMX` chunks become `JUNK`) or cut off
    /// (ID3 and APE tags around MP3 and AAC frames). Ogg comment headers are
    /// kept: changing them means rewriting every page checksum. The streams
    /// themselves are untouched (no transcoding).
    pub original: Vec<u8>,
    /// True when `original` differs from the upload.
    pub metadata_removed: bool,
    /// [`MediaKind::Video`] or [`MediaKind::Audio`], from the tracks found
    /// (an MP4 or WebM file with only sound is audio).
    pub kind: MediaKind,
    /// `video/mp4`, `video/quicktime`, `video/3gpp`, `video/webm`,
    /// `video/ogg`, `audio/mp4`, `audio/webm`, `audio/ogg`, `audio/mpeg`,
    /// `audio/aac`, `audio/flac` or `audio/wav`.
    pub content_type: &'static str,
    /// Playing time in seconds, > 0.
    pub duration_secs: f64,
    /// Average bits per second over the whole file.
    pub bitrate: u64,
    /// Present for video.
    pub video: Option<VideoInfo>,
    pub audio: Option<AudioInfo>,
}

/// What a container parser found.
pub(crate) struct Probe {
    pub kind: MediaKind,
    pub content_type: &'static str,
    pub duration_secs: f64,
    pub video: Option<VideoInfo>,
    pub audio: Option<AudioInfo>,
    /// The file with metadata removed, when there was some.
    pub cleaned: Option<Vec<u8>>,
}

/// Checks an uploaded or fetched video or audio file and reads what
/// Mastodon's `meta` needs.
///
/// Steps: the size is checked against [`Limits::max_video_bytes`]; the type
/// comes from the magic bytes (anything but video or audio is
/// [`MediaError::UnsupportedType`]); the container is parsed (a file that
/// does not parse to the end of its structure, or holds no audio or video
/// stream, is [`MediaError::InvalidAv`]); the picture size is checked
/// against [`Limits::max_pixels`], the frame rate against
/// [`Limits::max_frame_rate`] and the duration against
/// [`Limits::max_duration_secs`]. Every step is linear in the size of the
/// file and allocates at most a copy of it.
pub fn process_av(bytes: &[u8], limits: &Limits) -> Result<ProcessedAv, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() > limits.max_video_bytes {
        return Err(MediaError::TooLarge {
            size: bytes.len(),
            limit: limits.max_video_bytes,
        });
    }
    let content_type = match sniff(bytes) {
        Some((MediaKind::Video | MediaKind::Audio, content_type)) => content_type,
        _ => return Err(MediaError::UnsupportedType),
    };
    let probe = match content_type {
        "video/mp4" | "video/quicktime" | "video/3gpp" | "audio/mp4" => {
            isobmff::probe(bytes, content_type)?
        }
        "video/webm" => matroska::probe(bytes)?,
        "video/ogg" | "audio/ogg" => ogg::probe(bytes)?,
        "audio/mpeg" | "audio/aac" => mpeg::probe(bytes)?,
        "audio/flac" => flac::probe(bytes)?,
        "audio/wav" => wav::probe(bytes)?,
        _ => return Err(MediaError::UnsupportedType),
    };
    check(&probe, limits)?;
    let stored_len = probe.cleaned.as_ref().map_or(bytes.len(), Vec::len);
    // Lossy only past 2^52 bytes, far beyond any limit.
    #[allow(clippy::cast_precision_loss)]
    let bits = stored_len as f64 * 8.0;
    // Finite and positive (checked); the cast saturates.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let bitrate = (bits / probe.duration_secs).round() as u64;
    let metadata_removed = probe.cleaned.is_some();
    Ok(ProcessedAv {
        original: probe.cleaned.unwrap_or_else(|| bytes.to_vec()),
        metadata_removed,
        kind: probe.kind,
        content_type: probe.content_type,
        duration_secs: probe.duration_secs,
        bitrate,
        video: probe.video,
        audio: probe.audio,
    })
}

fn check(probe: &Probe, limits: &Limits) -> Result<(), MediaError> {
    let seconds = probe.duration_secs;
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(read::invalid("it has no playing time"));
    }
    if seconds > f64::from(limits.max_duration_secs) {
        return Err(MediaError::TooLong {
            seconds,
            limit: limits.max_duration_secs,
        });
    }
    if let Some(video) = &probe.video {
        let Dimensions { width, height } = video.size;
        if width == 0 || height == 0 {
            return Err(read::invalid("the video has no picture size"));
        }
        if video.size.pixels() > limits.max_pixels {
            return Err(MediaError::VideoTooLarge {
                width,
                height,
                limit: limits.max_pixels,
            });
        }
        if let Some(rate) = video.frame_rate {
            if rate.as_f64() > f64::from(limits.max_frame_rate) {
                return Err(MediaError::FrameRateTooHigh {
                    frames_per_second: rate.as_f64(),
                    limit: limits.max_frame_rate,
                });
            }
        }
    }
    Ok(())
}

/// A duration as Mastodon's `meta.length`: `H:MM:SS.cc`.
pub fn length_string(seconds: f64) -> String {
    let seconds = if seconds.is_finite() {
        seconds.max(0.0)
    } else {
        0.0
    };
    // Non-negative and finite; saturates past 5 billion years.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let centis = (seconds * 100.0).round() as u64;
    format!(
        "{}:{:02}:{:02}.{:02}",
        centis / 360_000,
        centis / 6_000 % 60,
        centis / 100 % 60,
        centis % 100
    )
}

/// `numerator / denominator` seconds, for durations counted in ticks.
pub(crate) fn seconds(ticks: u64, per_second: u64) -> f64 {
    if per_second == 0 {
        return 0.0;
    }
    // Precision loss past 2^52 ticks is irrelevant for a duration.
    #[allow(clippy::cast_precision_loss)]
    let s = ticks as f64 / per_second as f64;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rates_reduce_and_print() {
        let fr = |n, d| FrameRate::from_ratio(n, d).map(|r| r.to_string());
        assert_eq!(fr(300 * 15_360, 153_600).as_deref(), Some("30/1"));
        assert_eq!(fr(30_000, 1_001).as_deref(), Some("30000/1001"));
        assert_eq!(fr(0, 1), None);
        assert_eq!(fr(1, 0), None);
        // Too large for 32 bits: thousandths.
        assert_eq!(
            fr(u128::from(u64::MAX) * 25, u128::from(u64::MAX)).as_deref(),
            Some("25/1")
        );
        // 2^33 / (2^32 + 1) ≈ 1.99999999953: 2000/1000.
        assert_eq!(fr(1 << 33, (1 << 32) + 1).as_deref(), Some("2/1"));
        // Absurdly fast, even in thousandths.
        assert_eq!(fr(u128::from(u64::MAX), 3), None);
        assert_eq!(
            FrameRate::from_f64(29.97).map(|r| r.to_string()).as_deref(),
            Some("2997/100")
        );
        assert_eq!(FrameRate::from_f64(f64::NAN), None);
        assert_eq!(FrameRate::from_f64(-1.0), None);
    }

    #[test]
    fn lengths_look_like_mastodons() {
        assert_eq!(length_string(12.345), "0:00:12.35");
        assert_eq!(length_string(88.65), "0:01:28.65");
        assert_eq!(length_string(3_725.0), "1:02:05.00");
        assert_eq!(length_string(-1.0), "0:00:00.00");
        assert_eq!(length_string(f64::INFINITY), "0:00:00.00");
    }

    #[test]
    fn seconds_of_ticks() {
        assert!((seconds(90_000, 48_000) - 1.875).abs() < 1e-12);
        assert!(seconds(5, 0).abs() < f64::EPSILON);
    }
}
