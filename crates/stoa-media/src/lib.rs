//! Pure media processing for Stoa.
//!
//! This crate turns the bytes of an uploaded or fetched file into what a
//! Mastodon `MediaAttachment` needs: the real content type (from magic bytes,
//! never from the client), a re-encoded original without metadata, a small
//! preview, the `meta.original` / `meta.small` sizes and a blurhash. It does
//! no I/O besides reading the bytes it is given: storing the outputs is the
//! job of other crates.
//!
//! Entry points:
//! - [`sniff`] / [`check_upload`]: what a file really is, and whether its size
//!   is acceptable for that kind.
//! - [`process_image`]: decode safely (dimensions are checked from the header
//!   before any pixel is decoded), apply the EXIF orientation, strip all
//!   metadata by re-encoding from pixels, downscale to the limits, make the
//!   preview and the blurhash.
//! - [`process_av`]: video and audio. The container (MP4/MOV, WebM, Ogg,
//!   MP3, AAC, FLAC, WAV) is parsed in Rust within the bounds of the file to
//!   read the duration, picture size and frame rate, and to refuse files
//!   that are damaged, too long or too large; nothing is decoded or
//!   transcoded and no external program runs. Metadata blocks are blanked
//!   where that moves nothing else.
//! - [`parse_focus`], [`validate_description`]: the checks behind
//!   `PUT /api/v1/media/:id`.
//!
//! Every error is a [`MediaError`] whose `Display` text is meant to be shown
//! to the user in a 422 response.

mod av;
mod gif;
mod pipeline;
mod sniff;

pub use av::{length_string, process_av, AudioInfo, FrameRate, ProcessedAv, VideoInfo};
pub use pipeline::process_image;
pub use sniff::{extension_for, sniff};

/// Limits applied to media. The defaults are Mastodon's.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest image file accepted, in bytes (Mastodon `image_size_limit`:
    /// 16 MiB).
    pub max_bytes: usize,
    /// Largest video or audio file accepted, in bytes (Mastodon
    /// `video_size_limit`: 99 MiB).
    pub max_video_bytes: usize,
    /// Largest image accepted, in pixels (width × height), checked from the
    /// file header before decoding (Mastodon `image_matrix_limit`:
    /// 33 177 600, 7680x4320). Videos are held to it too.
    pub max_pixels: u64,
    /// Longest video or audio accepted, in seconds.
    pub max_duration_secs: u32,
    /// Highest video frame rate accepted, in frames per second (Mastodon's
    /// `video_frame_rate_limit`: 120).
    pub max_frame_rate: u32,
    /// Stored originals are downscaled to at most this many pixels (Mastodon's
    /// `original` style: 8 294 400, 3840x2160). Animated GIFs, which are kept
    /// as they are, must already fit.
    pub max_original_pixels: u64,
    /// The preview (`small`) is downscaled to at most this many pixels
    /// (Mastodon's `small` style: 230 400, 640x360).
    pub preview_pixels: u64,
    /// Most frames accepted in an animated GIF.
    pub max_animation_frames: u32,
    /// Most pixels decoded over all frames of an animated GIF
    /// (frames × canvas width × canvas height), which bounds the time spent
    /// validating one.
    pub max_animation_pixels: u64,
    /// Longest media description (alt text), in characters.
    pub max_description_chars: usize,
    /// Blurhash components `(x, y)`, each 1..=9 (Mastodon: 4x4).
    pub blurhash_components: (u32, u32),
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_video_bytes: 99 * 1024 * 1024,
            max_pixels: 33_177_600,
            max_duration_secs: 3_600,
            max_frame_rate: 120,
            max_original_pixels: 8_294_400,
            preview_pixels: 230_400,
            max_animation_frames: 1_000,
            max_animation_pixels: 300_000_000,
            max_description_chars: 1_500,
            blurhash_components: (4, 4),
        }
    }
}

/// Mastodon's attachment types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Image,
    /// A silent looping video (Mastodon converts animated GIFs to this; Stoa
    /// keeps animated GIFs as `Image`, see [`ProcessedImage::animated`]).
    Gifv,
    Video,
    Audio,
    Unknown,
}

impl MediaKind {
    /// The `type` of a Mastodon `MediaAttachment`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Gifv => "gifv",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Unknown => "unknown",
        }
    }
}

/// Width and height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

impl Dimensions {
    /// `width / height`, as in `meta.original.aspect`. 0 for an empty size.
    pub fn aspect(&self) -> f64 {
        if self.height == 0 {
            0.0
        } else {
            f64::from(self.width) / f64::from(self.height)
        }
    }

    /// `"WIDTHxHEIGHT"`, as in `meta.original.size`.
    pub fn size_string(&self) -> String {
        format!("{}x{}", self.width, self.height)
    }

    /// Width × height.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// The result of [`process_image`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedImage {
    /// The original to store: re-encoded from pixels (so EXIF, XMP, IPTC,
    /// comments and GPS are gone; only a matching ICC colour profile is kept),
    /// with the EXIF orientation applied and downscaled to
    /// [`Limits::max_original_pixels`]. An animated GIF is kept as GIF with its
    /// comment, XMP and other application blocks and any bytes after the end
    /// removed, but its pixels untouched.
    pub original: Vec<u8>,
    /// `image/jpeg` (JPEG input, or opaque WebP), `image/png` (PNG, still GIF,
    /// WebP with transparency, anything with transparency) or `image/gif`
    /// (animated GIF). WebP is not written because the only WebP encoder
    /// available is lossless, which makes photos several times larger.
    pub original_content_type: &'static str,
    pub original_size: Dimensions,
    /// The preview (`small`): JPEG, or PNG when the image has transparency.
    pub preview: Vec<u8>,
    pub preview_content_type: &'static str,
    pub preview_size: Dimensions,
    /// Blurhash of the image (computed from a downscale of at most 32x32).
    /// Transparent areas are blended over white. Deterministic.
    pub blurhash: String,
    /// True for an animated GIF (kept as `image/gif`; Mastodon type `image`).
    /// Animated PNG and WebP are reduced to their first frame.
    pub animated: bool,
}

/// Why media was refused. The `Display` text is meant for users (HTTP 422).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MediaError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is too large ({}); the limit is {}.", human_bytes(*size), human_bytes(*limit))]
    TooLarge { size: usize, limit: usize },
    #[error("The image is too large ({width}x{height} pixels); the limit is {limit} pixels.")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("The animation has too many frames; the limit at this size is {limit}.")]
    TooManyFrames { limit: u64 },
    #[error("This file type is not supported.")]
    UnsupportedType,
    #[error("The file is damaged or not a valid image ({0}).")]
    Corrupt(String),
    #[error("The file is damaged or not a valid audio or video file ({0}).")]
    InvalidAv(String),
    #[error("The video is too large ({width}x{height} pixels); the limit is {limit} pixels.")]
    VideoTooLarge { width: u32, height: u32, limit: u64 },
    #[error("The file plays too long ({}); the limit is {}.", length_string(*seconds), length_string(f64::from(*limit)))]
    TooLong { seconds: f64, limit: u32 },
    #[error(
        "The video has too many frames per second ({frames_per_second:.2}); the limit is {limit}."
    )]
    FrameRateTooHigh { frames_per_second: f64, limit: u32 },
    #[error(
        "The focus must be two numbers from -1.0 to 1.0 separated by a comma, like \"0.5,-0.25\"."
    )]
    InvalidFocus,
    #[error("The description is too long ({chars} characters); the limit is {limit}.")]
    DescriptionTooLong { chars: usize, limit: usize },
    /// Encoding the output failed; not the user's fault (should not happen).
    #[error("The image could not be processed ({0}).")]
    Processing(String),
}

fn human_bytes(bytes: usize) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    // Lossy only beyond 2^52 bytes, far past any limit.
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if b >= MIB {
        format!("{:.1} MB", b / MIB)
    } else if bytes >= 1024 {
        format!("{:.1} KB", b / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

/// Sniffs `bytes` and checks their size against the limit for their kind
/// (images: [`Limits::max_bytes`]; video and audio: [`Limits::max_video_bytes`]).
pub fn check_upload(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(MediaKind, &'static str), MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    let (kind, content_type) = sniff(bytes).ok_or(MediaError::UnsupportedType)?;
    let limit = match kind {
        MediaKind::Image => limits.max_bytes,
        MediaKind::Gifv | MediaKind::Video | MediaKind::Audio => limits.max_video_bytes,
        MediaKind::Unknown => return Err(MediaError::UnsupportedType),
    };
    if bytes.len() > limit {
        return Err(MediaError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    Ok((kind, content_type))
}

/// Parses Mastodon's `focus` parameter, `"x,y"` with each coordinate in
/// `-1.0..=1.0` (x: left to right, y: bottom to top).
pub fn parse_focus(raw: &str) -> Result<(f32, f32), MediaError> {
    let mut parts = raw.split(',');
    let (Some(x), Some(y), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(MediaError::InvalidFocus);
    };
    let coordinate = |s: &str| -> Result<f32, MediaError> {
        let v: f32 = s.trim().parse().map_err(|_| MediaError::InvalidFocus)?;
        if v.is_finite() && (-1.0..=1.0).contains(&v) {
            Ok(v)
        } else {
            Err(MediaError::InvalidFocus)
        }
    };
    Ok((coordinate(x)?, coordinate(y)?))
}

/// Checks a media description (alt text) against
/// [`Limits::max_description_chars`], counting Unicode scalar values.
pub fn validate_description(description: &str, limits: &Limits) -> Result<(), MediaError> {
    let chars = description.chars().count();
    if chars > limits.max_description_chars {
        return Err(MediaError::DescriptionTooLong {
            chars,
            limit: limits.max_description_chars,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_parses_and_rejects() {
        assert_eq!(parse_focus("0.5,-0.25"), Ok((0.5, -0.25)));
        assert_eq!(parse_focus(" -1 , 1 "), Ok((-1.0, 1.0)));
        assert_eq!(parse_focus("0,0"), Ok((0.0, 0.0)));
        for bad in [
            "", "0", "0,", ",0", "1.5,0", "0,-1.01", "a,b", "0,0,0", "NaN,0", "inf,0", "0;0",
        ] {
            assert_eq!(parse_focus(bad), Err(MediaError::InvalidFocus), "{bad:?}");
        }
    }

    #[test]
    fn description_counts_characters() {
        let limits = Limits {
            max_description_chars: 3,
            ..Limits::default()
        };
        assert!(validate_description("ééé", &limits).is_ok());
        assert_eq!(
            validate_description("abcd", &limits),
            Err(MediaError::DescriptionTooLong { chars: 4, limit: 3 })
        );
    }

    #[test]
    fn messages_are_readable() {
        let e = MediaError::TooLarge {
            size: 20 * 1024 * 1024,
            limit: 16 * 1024 * 1024,
        };
        assert_eq!(
            e.to_string(),
            "The file is too large (20.0 MB); the limit is 16.0 MB."
        );
        assert_eq!(human_bytes(10), "10 bytes");
        assert_eq!(human_bytes(2048), "2.0 KB");
    }

    #[test]
    fn upload_size_depends_on_kind() {
        let limits = Limits {
            max_bytes: 20,
            max_video_bytes: 40,
            ..Limits::default()
        };
        let mut mp4 = b"\0\0\0\x14ftypisom\0\0\0\0isom".to_vec();
        mp4.resize(30, 0);
        assert_eq!(
            check_upload(&mp4, &limits),
            Ok((MediaKind::Video, "video/mp4"))
        );
        mp4.resize(41, 0);
        assert_eq!(
            check_upload(&mp4, &limits),
            Err(MediaError::TooLarge {
                size: 41,
                limit: 40
            })
        );
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.resize(21, 0);
        assert_eq!(
            check_upload(&png, &limits),
            Err(MediaError::TooLarge {
                size: 21,
                limit: 20
            })
        );
        assert_eq!(check_upload(b"", &limits), Err(MediaError::Empty));
        assert_eq!(
            check_upload(b"hello", &limits),
            Err(MediaError::UnsupportedType)
        );
        assert_eq!(MediaKind::Gifv.as_str(), "gifv");
    }

    #[test]
    fn dimensions_helpers() {
        let d = Dimensions {
            width: 640,
            height: 360,
        };
        assert!((d.aspect() - 16.0 / 9.0).abs() < 1e-9);
        assert_eq!(d.size_string(), "640x360");
        assert_eq!(d.pixels(), 230_400);
        assert!(
            Dimensions {
                width: 1,
                height: 0
            }
            .aspect()
            .abs()
                < f64::EPSILON
        );
    }
}
