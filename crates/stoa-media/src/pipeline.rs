//! The image pipeline: header check, bounded decode, orientation, resize,
//! re-encode, preview, blurhash.

use std::io::Cursor;

use image::codecs::gif::GifDecoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{
    AnimationDecoder, DynamicImage, ImageDecoder, ImageEncoder, ImageError, ImageFormat,
    ImageReader,
};

use crate::{gif, sniff, Dimensions, Limits, MediaError, MediaKind, ProcessedImage};

const ORIGINAL_JPEG_QUALITY: u8 = 90;
const PREVIEW_JPEG_QUALITY: u8 = 80;
/// Largest width or height a JPEG can have.
const JPEG_MAX_SIDE: u32 = 65_535;
/// Side of the box the blurhash is computed in.
const BLURHASH_SIDE: u32 = 32;
/// Largest ICC profile carried over to the outputs.
const MAX_ICC_BYTES: usize = 64 * 1024;
/// Allowance for decoder state beyond the pixel buffer.
const DECODER_SLACK_BYTES: u64 = 64 * 1024 * 1024;
/// Most bytes per pixel a decoder produces (16-bit RGBA).
const MAX_BYTES_PER_PIXEL: u64 = 8;

/// Processes an image upload or a fetched remote image.
///
/// Steps: the size is checked; the type is taken from the magic bytes (JPEG,
/// PNG, GIF or WebP, anything else is [`MediaError::UnsupportedType`]); the
/// dimensions are read from the header and checked against
/// [`Limits::max_pixels`] before any pixel is decoded, and the decoder runs
/// with width, height and allocation limits; the EXIF orientation is applied;
/// the image is downscaled to [`Limits::max_original_pixels`] and re-encoded,
/// which leaves every metadata block behind (only an ICC colour profile that
/// matches the output is kept); a preview fitting [`Limits::preview_pixels`]
/// and a blurhash are made.
///
/// Animated GIFs are kept as GIF (see [`ProcessedImage::original`]) after their
/// block structure is checked, their frame count bounded and every frame
/// decoded once.
pub fn process_image(bytes: &[u8], limits: &Limits) -> Result<ProcessedImage, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(MediaError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let format = match sniff(bytes) {
        Some((MediaKind::Image, "image/jpeg")) => ImageFormat::Jpeg,
        Some((MediaKind::Image, "image/png")) => ImageFormat::Png,
        Some((MediaKind::Image, "image/gif")) => ImageFormat::Gif,
        Some((MediaKind::Image, "image/webp")) => ImageFormat::WebP,
        _ => return Err(MediaError::UnsupportedType),
    };
    if format == ImageFormat::Gif {
        let scan = gif::scan(bytes, u64::from(limits.max_animation_frames))?;
        match scan.frames {
            0 => return Err(MediaError::Corrupt("the GIF file has no image".into())),
            1 => {}
            _ => return process_animated_gif(scan, limits),
        }
    }
    let decoded = decode_still(bytes, format, limits)?;
    finish(decoded, format, limits)
}

struct Decoded {
    image: DynamicImage,
    icc: Option<Vec<u8>>,
}

/// Bytes the decoder may allocate for an image of `max_pixels`.
fn alloc_budget(max_pixels: u64) -> u64 {
    max_pixels
        .saturating_mul(MAX_BYTES_PER_PIXEL)
        .saturating_add(DECODER_SLACK_BYTES)
}

fn decoder_limits(max_side: u32, max_alloc: u64) -> image::Limits {
    let mut l = image::Limits::default();
    l.max_image_width = Some(max_side);
    l.max_image_height = Some(max_side);
    l.max_alloc = Some(max_alloc);
    l
}

fn check_pixels(width: u32, height: u32, limit: u64) -> Result<(), MediaError> {
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt("the image has no pixels".into()));
    }
    if u64::from(width) * u64::from(height) > limit {
        return Err(MediaError::TooManyPixels {
            width,
            height,
            limit,
        });
    }
    Ok(())
}

fn decode_error(e: ImageError, width: u32, height: u32, limit: u64) -> MediaError {
    match e {
        ImageError::Limits(_) => MediaError::TooManyPixels {
            width,
            height,
            limit,
        },
        ImageError::Unsupported(u) => {
            MediaError::Corrupt(format!("this variant of the format is not supported: {u}"))
        }
        other => MediaError::Corrupt(other.to_string()),
    }
}

fn decode_still(bytes: &[u8], format: ImageFormat, limits: &Limits) -> Result<Decoded, MediaError> {
    let max_alloc = alloc_budget(limits.max_pixels);
    let max_side = u32::try_from(limits.max_pixels).unwrap_or(u32::MAX);
    // Only the header is parsed here; the PNG decoder takes its limits now.
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoder_limits(u32::MAX, max_alloc));
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| decode_error(e, 0, 0, limits.max_pixels))?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits.max_pixels)?;
    let too_big = |e| decode_error(e, width, height, limits.max_pixels);
    decoder
        .set_limits(decoder_limits(max_side, max_alloc))
        .map_err(too_big)?;
    if decoder.total_bytes() > max_alloc {
        return Err(MediaError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    // Broken metadata is not a reason to refuse an image that decodes.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let icc = decoder
        .icc_profile()
        .ok()
        .flatten()
        .filter(|p| p.len() <= MAX_ICC_BYTES);
    let mut image = DynamicImage::from_decoder(decoder).map_err(too_big)?;
    image.apply_orientation(orientation);
    Ok(Decoded { image, icc })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    Jpeg,
    Png,
}

impl Output {
    fn content_type(self) -> &'static str {
        match self {
            Output::Jpeg => "image/jpeg",
            Output::Png => "image/png",
        }
    }
}

fn finish(
    decoded: Decoded,
    format: ImageFormat,
    limits: &Limits,
) -> Result<ProcessedImage, MediaError> {
    let Decoded { image, icc } = decoded;
    let alpha = image.color().has_alpha() && !is_opaque(&image);
    let image = normalize(image, alpha);
    let output = match format {
        _ if alpha => Output::Png,
        ImageFormat::Png | ImageFormat::Gif => Output::Png,
        _ => Output::Jpeg,
    };
    let icc = icc.filter(|p| icc_matches(p, &image));

    let (width, height) = (image.width(), image.height());
    let (ow, oh) = fit_pixels(width, height, limits.max_original_pixels);
    let original_image = if (ow, oh) == (width, height) {
        image
    } else {
        image.resize_exact(ow, oh, FilterType::CatmullRom)
    };
    let original = encode(
        &original_image,
        output,
        ORIGINAL_JPEG_QUALITY,
        icc.as_deref(),
    )?;
    let preview = make_preview(&original_image, alpha, icc.as_deref(), limits)?;
    Ok(ProcessedImage {
        original,
        original_content_type: output.content_type(),
        original_size: Dimensions {
            width: ow,
            height: oh,
        },
        preview: preview.bytes,
        preview_content_type: preview.content_type,
        preview_size: preview.size,
        blurhash: preview.blurhash,
        animated: false,
    })
}

struct Preview {
    bytes: Vec<u8>,
    content_type: &'static str,
    size: Dimensions,
    blurhash: String,
}

fn make_preview(
    image: &DynamicImage,
    alpha: bool,
    icc: Option<&[u8]>,
    limits: &Limits,
) -> Result<Preview, MediaError> {
    let (w, h) = (image.width(), image.height());
    let (pw, ph) = fit_pixels(w, h, limits.preview_pixels);
    // JPEG sides stop at 65535.
    let (pw, ph) = fit_box(pw, ph, JPEG_MAX_SIDE);
    let small = downscale(image, pw, ph);
    let output = if alpha { Output::Png } else { Output::Jpeg };
    let bytes = encode(&small, output, PREVIEW_JPEG_QUALITY, icc)?;
    let blurhash = blurhash_of(&small, limits.blurhash_components)?;
    Ok(Preview {
        bytes,
        content_type: output.content_type(),
        size: Dimensions {
            width: pw,
            height: ph,
        },
        blurhash,
    })
}

/// Downscales to exactly `w`x`h`: a filtered resize for small ratios, the
/// faster area average for large ones.
fn downscale(image: &DynamicImage, w: u32, h: u32) -> DynamicImage {
    if (w, h) == (image.width(), image.height()) {
        image.clone()
    } else if u64::from(w) * 2 > u64::from(image.width()) {
        image.resize_exact(w, h, FilterType::CatmullRom)
    } else {
        image.thumbnail_exact(w, h)
    }
}

fn blurhash_of(image: &DynamicImage, (cx, cy): (u32, u32)) -> Result<String, MediaError> {
    let (bw, bh) = fit_box(image.width(), image.height(), BLURHASH_SIDE);
    let tiny = downscale(image, bw, bh).to_rgba8();
    let mut rgba = tiny.into_raw();
    for px in rgba.chunks_exact_mut(4) {
        let a = u32::from(px[3]);
        if a < 255 {
            for c in &mut px[..3] {
                // Blend over white; the result is at most 255.
                let blended = (u32::from(*c) * a + 255 * (255 - a) + 127) / 255;
                *c = u8::try_from(blended).unwrap_or(u8::MAX);
            }
            px[3] = 255;
        }
    }
    blurhash::encode(cx, cy, bw, bh, &rgba).map_err(|e| MediaError::Processing(e.to_string()))
}

/// The largest size with the same aspect (rounded down, each side at least 1)
/// and at most `max` pixels. Never upscales.
pub(crate) fn fit_pixels(w: u32, h: u32, max: u64) -> (u32, u32) {
    let max = max.max(1);
    let pixels = u64::from(w) * u64::from(h);
    if pixels <= max {
        return (w, h);
    }
    #[allow(clippy::cast_precision_loss)]
    let scale = (max as f64 / pixels as f64).sqrt();
    let side = |s: u32| -> u32 {
        // In range: the product is below `s`, and clamped again.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let v = (f64::from(s) * scale).floor() as u32;
        v.clamp(1, s)
    };
    let (mut nw, mut nh) = (side(w), side(h));
    // Very thin images: the short side was rounded up to 1.
    if u64::from(nw) * u64::from(nh) > max {
        if nw >= nh {
            nw = u32::try_from(max / u64::from(nh))
                .unwrap_or(u32::MAX)
                .clamp(1, w);
        } else {
            nh = u32::try_from(max / u64::from(nw))
                .unwrap_or(u32::MAX)
                .clamp(1, h);
        }
    }
    (nw, nh)
}

/// The largest size with the same aspect fitting in `side`x`side` (never
/// upscales; each side at least 1).
fn fit_box(w: u32, h: u32, side: u32) -> (u32, u32) {
    if w <= side && h <= side {
        return (w.max(1), h.max(1));
    }
    let (long, short) = if w >= h { (w, h) } else { (h, w) };
    let scaled = u64::from(short) * u64::from(side) / u64::from(long);
    let scaled = u32::try_from(scaled).unwrap_or(side).clamp(1, side);
    if w >= h {
        (side, scaled)
    } else {
        (scaled, side)
    }
}

fn is_opaque(image: &DynamicImage) -> bool {
    match image {
        DynamicImage::ImageLumaA8(b) => b.pixels().all(|p| p.0[1] == u8::MAX),
        DynamicImage::ImageRgba8(b) => b.pixels().all(|p| p.0[3] == u8::MAX),
        DynamicImage::ImageLumaA16(b) => b.pixels().all(|p| p.0[1] == u16::MAX),
        DynamicImage::ImageRgba16(b) => b.pixels().all(|p| p.0[3] == u16::MAX),
        DynamicImage::ImageRgba32F(b) => b.pixels().all(|p| p.0[3] >= 1.0),
        _ => !image.color().has_alpha(),
    }
}

/// 8 bits per channel; grey stays grey; alpha only when something is
/// transparent.
fn normalize(image: DynamicImage, alpha: bool) -> DynamicImage {
    match (image.color().has_color(), alpha) {
        (false, false) => DynamicImage::ImageLuma8(image.into_luma8()),
        (false, true) => DynamicImage::ImageLumaA8(image.into_luma_alpha8()),
        (true, false) => DynamicImage::ImageRgb8(image.into_rgb8()),
        (true, true) => DynamicImage::ImageRgba8(image.into_rgba8()),
    }
}

/// Whether an ICC profile's colour space (header bytes 16..20) fits `image`.
fn icc_matches(profile: &[u8], image: &DynamicImage) -> bool {
    let want: &[u8] = if image.color().has_color() {
        b"RGB "
    } else {
        b"GRAY"
    };
    profile.get(16..20) == Some(want)
}

fn encode(
    image: &DynamicImage,
    output: Output,
    jpeg_quality: u8,
    icc: Option<&[u8]>,
) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    let (w, h) = (image.width(), image.height());
    let color = image.color().into();
    let failed = |e: ImageError| MediaError::Processing(e.to_string());
    match output {
        Output::Jpeg => {
            let mut encoder = JpegEncoder::new_with_quality(&mut out, jpeg_quality);
            if let Some(icc) = icc {
                // An encoder that cannot embed it just leaves it out.
                let _ = encoder.set_icc_profile(icc.to_vec());
            }
            encoder
                .write_image(image.as_bytes(), w, h, color)
                .map_err(failed)?;
        }
        Output::Png => {
            let mut encoder = PngEncoder::new_with_quality(
                &mut out,
                CompressionType::Default,
                PngFilter::Adaptive,
            );
            if let Some(icc) = icc {
                let _ = encoder.set_icc_profile(icc.to_vec());
            }
            encoder
                .write_image(image.as_bytes(), w, h, color)
                .map_err(failed)?;
        }
    }
    Ok(out)
}

fn process_animated_gif(scan: gif::GifScan, limits: &Limits) -> Result<ProcessedImage, MediaError> {
    let (width, height) = (scan.width, scan.height);
    // Kept as it is, so it must already fit the limit for stored originals.
    let pixel_limit = limits.max_pixels.min(limits.max_original_pixels);
    check_pixels(width, height, pixel_limit)?;
    let canvas = u64::from(width) * u64::from(height);
    let frame_limit =
        u64::from(limits.max_animation_frames).min(limits.max_animation_pixels / canvas);
    if scan.frames > frame_limit {
        return Err(MediaError::TooManyFrames { limit: frame_limit });
    }
    let too_big = |e| decode_error(e, width, height, pixel_limit);
    let mut decoder = GifDecoder::new(Cursor::new(&scan.stripped[..])).map_err(too_big)?;
    let max_side = u32::try_from(pixel_limit).unwrap_or(u32::MAX);
    decoder
        .set_limits(decoder_limits(max_side, alloc_budget(pixel_limit)))
        .map_err(too_big)?;
    // Every frame is decoded once to validate it; the first makes the preview.
    let mut first = None;
    let mut decoded = 0u64;
    for frame in decoder.into_frames() {
        let frame = frame.map_err(too_big)?;
        decoded += 1;
        if decoded > frame_limit {
            return Err(MediaError::TooManyFrames { limit: frame_limit });
        }
        if first.is_none() {
            first = Some(frame.into_buffer());
        }
    }
    let first = first.ok_or_else(|| MediaError::Corrupt("the GIF file has no image".into()))?;
    let image = DynamicImage::ImageRgba8(first);
    let alpha = !is_opaque(&image);
    let image = normalize(image, alpha);
    let preview = make_preview(&image, alpha, None, limits)?;
    Ok(ProcessedImage {
        original: scan.stripped,
        original_content_type: "image/gif",
        original_size: Dimensions { width, height },
        preview: preview.bytes,
        preview_content_type: preview.content_type,
        preview_size: preview.size,
        blurhash: preview.blurhash,
        animated: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_pixels_preserves_aspect_and_bound() {
        let cases = [
            (4000, 3000, 8_294_400),
            (3840, 2160, 8_294_400),
            (640, 360, 230_400),
            (10_000, 10, 230_400),
            (10, 10_000, 230_400),
            (33_177_600, 1, 230_400),
            (1, 33_177_600, 230_400),
            (7, 5, 1),
            (1, 1, 0),
            (12_345, 6_789, 1_000_000),
        ];
        for (w, h, max) in cases {
            let (nw, nh) = fit_pixels(w, h, max);
            assert!(
                u64::from(nw) * u64::from(nh) <= max.max(1),
                "{w}x{h} -> {nw}x{nh}"
            );
            assert!(nw >= 1 && nh >= 1 && nw <= w && nh <= h);
            if nw > 1 && nh > 1 {
                let expect_h = f64::from(nw) * f64::from(h) / f64::from(w);
                assert!(
                    (expect_h - f64::from(nh)).abs() <= 1.0,
                    "{w}x{h} -> {nw}x{nh}"
                );
            }
        }
        assert_eq!(fit_pixels(4000, 3000, 8_294_400), (3325, 2494));
    }

    #[test]
    fn fit_box_cases() {
        assert_eq!(fit_box(640, 360, 32), (32, 18));
        assert_eq!(fit_box(360, 640, 32), (18, 32));
        assert_eq!(fit_box(10, 5, 32), (10, 5));
        assert_eq!(fit_box(10_000, 1, 32), (32, 1));
    }
}
