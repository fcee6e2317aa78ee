//! Table-driven tests of the image pipeline with images generated here, and
//! hostile inputs: random bytes, truncations, bit flips, decompression bombs.

use std::io::Cursor;

use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{
    DynamicImage, ExtendedColorType, Frame, GrayAlphaImage, GrayImage, ImageBuffer, ImageEncoder,
    Luma, LumaA, Rgb, RgbImage, Rgba, RgbaImage,
};
use stoa_media::{process_image, Dimensions, Limits, MediaError, ProcessedImage};

// ---------------------------------------------------------------- generators

/// A tiny linear congruential generator, so "random" inputs are reproducible.
struct Lcg(u64);

impl Lcg {
    fn next_u8(&mut self) -> u8 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 56) as u8
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u8()).collect()
    }
    fn below(&mut self, n: usize) -> usize {
        let v = (usize::from(self.next_u8()) << 16)
            | (usize::from(self.next_u8()) << 8)
            | usize::from(self.next_u8());
        v % n.max(1)
    }
}

fn solid(w: u32, h: u32, c: [u8; 3]) -> RgbImage {
    RgbImage::from_pixel(w, h, Rgb(c))
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            ((x + y) % 256) as u8,
        ])
    })
}

/// Transparent on the left half, opaque gradient on the right.
fn with_alpha(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let a = if x < w / 2 { 0 } else { 255 };
        Rgba([(x % 256) as u8, (y % 256) as u8, 200, a])
    })
}

fn jpeg(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 92)
        .write_image(
            image.as_bytes(),
            image.width(),
            image.height(),
            image.color().into(),
        )
        .expect("encode jpeg");
    out
}

fn png(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(
            image.as_bytes(),
            image.width(),
            image.height(),
            image.color().into(),
        )
        .expect("encode png");
    out
}

fn webp(image: &RgbaImage) -> Vec<u8> {
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::Rgba8,
        )
        .expect("encode webp");
    out
}

fn gif(frames: &[RgbaImage]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut out, 30);
        encoder.set_repeat(Repeat::Infinite).expect("repeat");
        encoder
            .encode_frames(frames.iter().map(|f| Frame::new(f.clone())))
            .expect("encode gif");
    }
    out
}

/// Inserts a GIF comment block right after the screen descriptor and colour
/// table.
fn gif_with_comment(mut gif: Vec<u8>, text: &[u8]) -> Vec<u8> {
    let packed = gif[10];
    let table = if packed & 0x80 != 0 {
        3 << ((packed & 7) + 1)
    } else {
        0
    };
    let at = 13 + table;
    let mut block = vec![0x21, 0xFE, u8::try_from(text.len()).expect("short")];
    block.extend_from_slice(text);
    block.push(0);
    gif.splice(at..at, block);
    gif
}

/// A hand-built GIF: `frames` 1x1 image blocks on a `w`x`h` canvas.
fn gif_blocks(w: u16, h: u16, frames: usize) -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&w.to_le_bytes());
    g.extend_from_slice(&h.to_le_bytes());
    g.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    for _ in 0..frames {
        g.extend_from_slice(b"\x2C\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\0");
    }
    g.push(0x3B);
    g
}

/// An EXIF APP1 segment with an orientation, a description and a GPS IFD.
fn exif_app1(orientation: u16) -> Vec<u8> {
    let description = b"secret-owner GPS 48.8584N\0";
    // TIFF: header (8), IFD0 with 3 entries (2 + 36 + 4), GPS IFD with one
    // entry (2 + 12 + 4), then the description.
    let ifd0 = 8u32;
    let gps_ifd = ifd0 + 2 + 3 * 12 + 4;
    let desc_at = gps_ifd + 2 + 12 + 4;
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&ifd0.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    fn entry(t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value);
    }
    let len = u32::try_from(description.len()).expect("short");
    entry(&mut t, 0x010E, 2, len, desc_at.to_le_bytes());
    let o = orientation.to_le_bytes();
    entry(&mut t, 0x0112, 3, 1, [o[0], o[1], 0, 0]);
    entry(&mut t, 0x8825, 4, 1, gps_ifd.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(description);

    let mut seg = vec![0xFF, 0xE1];
    let seg_len = u16::try_from(2 + 6 + t.len()).expect("short");
    seg.extend_from_slice(&seg_len.to_be_bytes());
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&t);
    seg
}

/// Any JPEG segment (`marker` after 0xFF) with `payload`.
fn jpeg_segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut seg = vec![0xFF, marker];
    let len = u16::try_from(payload.len() + 2).expect("short");
    seg.extend_from_slice(&len.to_be_bytes());
    seg.extend_from_slice(payload);
    seg
}

/// Inserts segments right after the SOI marker.
fn jpeg_with(mut jpeg: Vec<u8>, segments: &[Vec<u8>]) -> Vec<u8> {
    let insert: Vec<u8> = segments.concat();
    jpeg.splice(2..2, insert);
    jpeg
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = u32::try_from(data.len())
        .expect("short")
        .to_be_bytes()
        .to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    c.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    c
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn ihdr(w: u32, h: u32, depth: u8, color: u8) -> Vec<u8> {
    let mut d = w.to_be_bytes().to_vec();
    d.extend_from_slice(&h.to_be_bytes());
    d.extend_from_slice(&[depth, color, 0, 0, 0]);
    png_chunk(b"IHDR", &d)
}

/// Zlib stream with stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        let len = u16::try_from(chunk.len()).expect("short");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// A 4x4 palette PNG whose index 0 is fully transparent through tRNS.
fn palette_png_with_trns() -> Vec<u8> {
    let mut p = PNG_SIGNATURE.to_vec();
    p.extend(ihdr(4, 4, 8, 3));
    p.extend(png_chunk(b"PLTE", &[255, 0, 0, 0, 0, 255]));
    p.extend(png_chunk(b"tRNS", &[0]));
    let mut raw = Vec::new();
    for y in 0..4u8 {
        raw.push(0); // filter: none
        for x in 0..4u8 {
            raw.push(u8::from(x >= 2 || y >= 2));
        }
    }
    p.extend(png_chunk(b"IDAT", &zlib_stored(&raw)));
    p.extend(png_chunk(b"IEND", &[]));
    p
}

/// Inserts chunks right after IHDR (signature 8 + IHDR 25 bytes).
fn png_with(mut png: Vec<u8>, chunks: &[Vec<u8>]) -> Vec<u8> {
    png.splice(33..33, chunks.concat());
    png
}

/// A baseline 8x8 CMYK JPEG (Adobe marker, no transform) whose DCT
/// coefficients are all zero.
fn cmyk_jpeg() -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    j.extend(jpeg_segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x00"));
    let mut dqt = vec![0u8];
    dqt.extend_from_slice(&[1; 64]);
    j.extend(jpeg_segment(0xDB, &dqt));
    let mut sof = vec![8, 0, 8, 0, 8, 4];
    for id in 1..=4 {
        sof.extend_from_slice(&[id, 0x11, 0]);
    }
    j.extend(jpeg_segment(0xC0, &sof));
    let mut one_code = vec![0u8; 16];
    one_code[0] = 1;
    for class in [0x00, 0x10] {
        let mut dht = vec![class];
        dht.extend_from_slice(&one_code);
        dht.push(0);
        j.extend(jpeg_segment(0xC4, &dht));
    }
    let mut sos = vec![4];
    for id in 1..=4 {
        sos.extend_from_slice(&[id, 0x00]);
    }
    sos.extend_from_slice(&[0, 63, 0]);
    j.extend(jpeg_segment(0xDA, &sos));
    // Per block: DC category 0 ("0") and end of block ("0"): 4 blocks, 8 bits.
    j.push(0x00);
    j.extend_from_slice(&[0xFF, 0xD9]);
    j
}

// ---------------------------------------------------------------- checks

fn decode(bytes: &[u8]) -> DynamicImage {
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .expect("guess")
        .decode()
        .expect("output decodes")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// What must hold for any successful result.
fn check_output(name: &str, p: &ProcessedImage, limits: &Limits) {
    let original = decode(&p.original);
    assert_eq!(
        (original.width(), original.height()),
        (p.original_size.width, p.original_size.height),
        "{name}: original size"
    );
    let preview = decode(&p.preview);
    assert_eq!(
        (preview.width(), preview.height()),
        (p.preview_size.width, p.preview_size.height),
        "{name}: preview size"
    );
    assert!(
        p.preview_size.pixels() <= limits.preview_pixels,
        "{name}: preview too big"
    );
    assert!(
        p.original_size.pixels() <= limits.max_original_pixels,
        "{name}: original too big"
    );
    assert!(
        p.preview_size.width <= p.original_size.width
            && p.preview_size.height <= p.original_size.height,
        "{name}: preview larger than original"
    );
    assert_aspect(name, p.original_size, p.preview_size);
    for out in [&p.original, &p.preview] {
        for secret in [
            &b"Exif\0\0"[..],
            b"GPS 48",
            b"secret",
            b"xmpmeta",
            b"ns.adobe.com",
        ] {
            assert!(!contains(out, secret), "{name}: output contains {secret:?}");
        }
        assert_no_metadata_blocks(name, out);
    }
    let (cx, cy) = limits.blurhash_components;
    let expected_len = 4 + 2 * (cx * cy) as usize;
    assert_eq!(
        p.blurhash.len(),
        expected_len,
        "{name}: blurhash {}",
        p.blurhash
    );
    blurhash::decode(&p.blurhash, 8, 8, 1.0).expect("blurhash decodes");
    assert_eq!(
        stoa_media::sniff(&p.preview).map(|(_, ct)| ct),
        Some(p.preview_content_type),
        "{name}: preview type"
    );
    assert_eq!(
        stoa_media::sniff(&p.original).map(|(_, ct)| ct),
        Some(p.original_content_type),
        "{name}: original type"
    );
}

/// The markers of a JPEG up to the start of scan, or the chunk types of a PNG.
fn block_names(bytes: &[u8]) -> Vec<[u8; 4]> {
    let mut names = Vec::new();
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut at = 2;
        while at + 4 <= bytes.len() && bytes[at] == 0xFF {
            let marker = bytes[at + 1];
            names.push([0xFF, marker, 0, 0]);
            if marker == 0xDA {
                break;
            }
            let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
            at += 2 + len;
        }
    } else if bytes.starts_with(PNG_SIGNATURE) {
        let mut at = 8;
        while at + 8 <= bytes.len() {
            let len = u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
            let kind = [bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]];
            names.push(kind);
            at += 12 + usize::try_from(len).expect("fits");
        }
    }
    names
}

/// JPEG outputs have no APP1 (EXIF, XMP), APP13 (IPTC) or comment segment; PNG
/// outputs no text or EXIF chunk.
fn assert_no_metadata_blocks(name: &str, bytes: &[u8]) {
    let names = block_names(bytes);
    if bytes.starts_with(&[0xFF, 0xD8]) {
        assert!(
            names.contains(&[0xFF, 0xDA, 0, 0]),
            "{name}: jpeg walk failed"
        );
    }
    for banned in [
        [0xFF, 0xE1, 0, 0],
        [0xFF, 0xED, 0, 0],
        [0xFF, 0xFE, 0, 0],
        *b"tEXt",
        *b"iTXt",
        *b"zTXt",
        *b"eXIf",
    ] {
        assert!(
            !names.contains(&banned),
            "{name}: output has block {banned:?}"
        );
    }
}

/// `small` has the aspect of `big`, within a pixel.
fn assert_aspect(name: &str, big: Dimensions, small: Dimensions) {
    let expect_h = f64::from(small.width) * f64::from(big.height) / f64::from(big.width);
    assert!(
        (expect_h - f64::from(small.height)).abs() <= 1.0,
        "{name}: aspect {big:?} -> {small:?}"
    );
}

fn dims(width: u32, height: u32) -> Dimensions {
    Dimensions { width, height }
}

// ---------------------------------------------------------------- valid inputs

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    original_type: &'static str,
    original_size: Dimensions,
    preview_type: &'static str,
    animated: bool,
}

fn valid_cases() -> Vec<Case> {
    let rgb = |i: RgbImage| DynamicImage::ImageRgb8(i);
    let mut cases = vec![
        Case {
            name: "solid jpeg",
            bytes: jpeg(&rgb(solid(64, 48, [200, 30, 30]))),
            original_type: "image/jpeg",
            original_size: dims(64, 48),
            preview_type: "image/jpeg",
            animated: false,
        },
        Case {
            name: "grey jpeg",
            bytes: jpeg(&DynamicImage::ImageLuma8(GrayImage::from_fn(
                33,
                17,
                |x, _| Luma([(x * 7) as u8]),
            ))),
            original_type: "image/jpeg",
            original_size: dims(33, 17),
            preview_type: "image/jpeg",
            animated: false,
        },
        Case {
            name: "gradient png bigger than the preview",
            bytes: png(&rgb(gradient(900, 300))),
            original_type: "image/png",
            original_size: dims(900, 300),
            preview_type: "image/jpeg",
            animated: false,
        },
        Case {
            name: "png with transparency",
            bytes: png(&DynamicImage::ImageRgba8(with_alpha(100, 80))),
            original_type: "image/png",
            original_size: dims(100, 80),
            preview_type: "image/png",
            animated: false,
        },
        Case {
            name: "rgba png that is fully opaque",
            bytes: png(&DynamicImage::ImageRgba8(RgbaImage::from_pixel(
                30,
                20,
                Rgba([1, 2, 3, 255]),
            ))),
            original_type: "image/png",
            original_size: dims(30, 20),
            preview_type: "image/jpeg",
            animated: false,
        },
        Case {
            name: "16-bit png",
            bytes: png(&DynamicImage::ImageRgb16(ImageBuffer::from_fn(
                50,
                40,
                |x, y| Rgb([(x * 1000) as u16, (y * 1500) as u16, 65_535]),
            ))),
            original_type: "image/png",
            original_size: dims(50, 40),
            preview_type: "image/jpeg",
            animated: false,
        },
        Case {
            name: "16-bit grey+alpha png",
            bytes: png(&DynamicImage::ImageLumaA16(ImageBuffer::from_fn(
                20,
                10,
                |x, _| LumaA([30_000, if x < 5 { 0 } else { 65_535 }]),
            ))),
            original_type: "image/png",
            original_size: dims(20, 10),
            preview_type: "image/png",
            animated: false,
        },
        Case {
            name: "grey+alpha png",
            bytes: png(&DynamicImage::ImageLumaA8(GrayAlphaImage::from_fn(
                25,
                25,
                |x, y| LumaA([(x * 10) as u8, (y * 10) as u8]),
            ))),
            original_type: "image/png",
            original_size: dims(25, 25),
            preview_type: "image/png",
            animated: false,
        },
        Case {
            name: "palette png with tRNS",
            bytes: palette_png_with_trns(),
            original_type: "image/png",
            original_size: dims(4, 4),
            preview_type: "image/png",
            animated: false,
        },
        Case {
            name: "cmyk jpeg",
            bytes: cmyk_jpeg(),
            original_type: "image/jpeg",
            original_size: dims(8, 8),
            preview_type: "image/jpeg",
            animated: false,
        },
        Case {
            name: "still gif",
            bytes: gif_with_comment(gif(&[with_alpha(40, 30)]), b"secret GPS comment"),
            original_type: "image/png",
            original_size: dims(40, 30),
            preview_type: "image/png",
            animated: false,
        },
        Case {
            name: "animated gif",
            bytes: gif_with_comment(
                gif(&[
                    RgbaImage::from_pixel(20, 10, Rgba([255, 0, 0, 255])),
                    RgbaImage::from_pixel(20, 10, Rgba([0, 255, 0, 255])),
                    RgbaImage::from_pixel(20, 10, Rgba([0, 0, 255, 255])),
                ]),
                b"secret GPS comment",
            ),
            original_type: "image/gif",
            original_size: dims(20, 10),
            preview_type: "image/jpeg",
            animated: true,
        },
        Case {
            name: "opaque webp",
            bytes: webp(&DynamicImage::ImageRgb8(gradient(60, 40)).to_rgba8()),
            original_type: "image/jpeg",
            original_size: dims(60, 40),
            preview_type: "image/jpeg",
            animated: false,
        },
        Case {
            name: "webp with transparency",
            bytes: webp(&with_alpha(60, 40)),
            original_type: "image/png",
            original_size: dims(60, 40),
            preview_type: "image/png",
            animated: false,
        },
        Case {
            name: "1x1 png",
            bytes: png(&rgb(solid(1, 1, [9, 9, 9]))),
            original_type: "image/png",
            original_size: dims(1, 1),
            preview_type: "image/jpeg",
            animated: false,
        },
        Case {
            name: "very thin png",
            bytes: png(&rgb(gradient(3000, 1))),
            original_type: "image/png",
            original_size: dims(3000, 1),
            preview_type: "image/jpeg",
            animated: false,
        },
        Case {
            // The preview is a JPEG, whose sides stop at 65535.
            name: "png wider than a jpeg can be",
            bytes: png(&rgb(solid(70_000, 1, [1, 2, 3]))),
            original_type: "image/png",
            original_size: dims(70_000, 1),
            preview_type: "image/jpeg",
            animated: false,
        },
    ];
    // Metadata of every kind in a JPEG: EXIF with GPS, XMP, a comment.
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPS secret</x:xmpmeta>";
    cases.push(Case {
        name: "jpeg with exif, xmp and comment",
        bytes: jpeg_with(
            jpeg(&rgb(gradient(40, 30))),
            &[
                exif_app1(1),
                jpeg_segment(0xE1, xmp),
                jpeg_segment(0xFE, b"secret GPS comment"),
            ],
        ),
        original_type: "image/jpeg",
        original_size: dims(40, 30),
        preview_type: "image/jpeg",
        animated: false,
    });
    // PNG text chunks and an eXIf chunk with orientation 6 (rotate).
    let exif = exif_app1(6);
    let tiff = exif[10..].to_vec();
    cases.push(Case {
        name: "png with text and exif",
        bytes: png_with(
            png(&rgb(gradient(40, 30))),
            &[
                png_chunk(b"tEXt", b"Comment\0secret GPS"),
                png_chunk(b"eXIf", &tiff),
            ],
        ),
        original_type: "image/png",
        original_size: dims(30, 40),
        preview_type: "image/jpeg",
        animated: false,
    });
    cases
}

#[test]
fn valid_images_table() {
    let limits = Limits::default();
    for case in valid_cases() {
        let name = case.name;
        let p = process_image(&case.bytes, &limits)
            .unwrap_or_else(|e| panic!("{name}: expected Ok, got {e:?}"));
        assert_eq!(p.original_content_type, case.original_type, "{name}");
        assert_eq!(p.original_size, case.original_size, "{name}");
        assert_eq!(p.preview_content_type, case.preview_type, "{name}");
        assert_eq!(p.animated, case.animated, "{name}");
        check_output(name, &p, &limits);
        // Deterministic: the same bytes give the same outputs.
        let again = process_image(&case.bytes, &limits).expect("second run");
        assert_eq!(again, p, "{name}: not deterministic");
    }
}

#[test]
fn small_images_are_not_upscaled_and_big_ones_get_a_small_preview() {
    let limits = Limits::default();
    let p = process_image(&png(&DynamicImage::ImageRgb8(gradient(900, 300))), &limits).expect("ok");
    // 900x300 = 270 000 px > 230 400: scaled by sqrt(230400/270000).
    assert_eq!(p.preview_size, dims(831, 277));
    let p = process_image(&png(&DynamicImage::ImageRgb8(gradient(64, 64))), &limits).expect("ok");
    assert_eq!(p.preview_size, dims(64, 64));
}

#[test]
fn animated_gif_keeps_frames_and_loses_comments() {
    let frames = [
        RgbaImage::from_pixel(20, 10, Rgba([255, 0, 0, 255])),
        RgbaImage::from_pixel(20, 10, Rgba([0, 255, 0, 255])),
    ];
    let input = gif_with_comment(gif(&frames), b"secret GPS comment");
    let p = process_image(&input, &Limits::default()).expect("ok");
    assert!(p.animated);
    assert!(!contains(&p.original, b"secret"));
    let decoder = image::codecs::gif::GifDecoder::new(Cursor::new(&p.original)).expect("gif");
    let decoded = image::AnimationDecoder::into_frames(decoder)
        .collect_frames()
        .expect("frames");
    assert_eq!(decoded.len(), 2);
    assert_eq!(decoded[1].buffer().get_pixel(3, 3), &Rgba([0, 255, 0, 255]));
    // The preview is the first frame.
    let preview = decode(&p.preview).to_rgb8();
    let px = preview.get_pixel(5, 5);
    assert!(px[0] > 200 && px[1] < 60, "{px:?}");
}

/// For each EXIF orientation, where the source's top-left corner ends up.
#[test]
fn exif_orientation_is_applied() {
    // 48x24, with a red 16x16 block in the top-left corner, blue elsewhere.
    let source = RgbImage::from_fn(48, 24, |x, y| {
        if x < 16 && y < 16 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let plain = jpeg(&DynamicImage::ImageRgb8(source));
    // (orientation, rotated?, corner: (right?, bottom?))
    let table = [
        (1u16, false, (false, false)),
        (2, false, (true, false)),
        (3, false, (true, true)),
        (4, false, (false, true)),
        (5, true, (false, false)),
        (6, true, (true, false)),
        (7, true, (true, true)),
        (8, true, (false, true)),
    ];
    let limits = Limits::default();
    for (orientation, rotated, (right, bottom)) in table {
        let input = jpeg_with(plain.clone(), &[exif_app1(orientation)]);
        let p = process_image(&input, &limits).expect("ok");
        let expect = if rotated { dims(24, 48) } else { dims(48, 24) };
        assert_eq!(p.original_size, expect, "orientation {orientation}");
        check_output("oriented", &p, &limits);
        let out = decode(&p.original).to_rgb8();
        let x = if right { out.width() - 5 } else { 4 };
        let y = if bottom { out.height() - 5 } else { 4 };
        let px = out.get_pixel(x, y);
        assert!(
            px[0] > 180 && px[2] < 90,
            "orientation {orientation}: expected red at ({x},{y}), got {px:?}"
        );
        let far = out.get_pixel(out.width() - 1 - x, out.height() - 1 - y);
        assert!(
            far[2] > 180,
            "orientation {orientation}: expected blue, got {far:?}"
        );
    }
}

#[test]
fn large_photo_is_downscaled_to_the_original_limit() {
    let limits = Limits::default();
    let big = DynamicImage::ImageRgb8(gradient(4000, 3000));
    let input = jpeg_with(jpeg(&big), &[exif_app1(1)]);
    let p = process_image(&input, &limits).expect("ok");
    assert_eq!(p.original_size, dims(3325, 2494));
    assert!(p.original_size.pixels() <= limits.max_original_pixels);
    assert_eq!(p.preview_size, dims(554, 415));
    check_output("4000x3000", &p, &limits);
}

/// A minimal ICC profile header (128 bytes, no tags) for `space`.
fn fake_icc(space: &[u8; 4]) -> Vec<u8> {
    let mut icc = vec![0u8; 132];
    icc[..4].copy_from_slice(&132u32.to_be_bytes());
    icc[12..16].copy_from_slice(b"mntr");
    icc[16..20].copy_from_slice(space);
    icc[20..24].copy_from_slice(b"XYZ ");
    icc[36..40].copy_from_slice(b"acsp");
    icc
}

fn icc_app2(icc: &[u8]) -> Vec<u8> {
    let mut payload = b"ICC_PROFILE\0\x01\x01".to_vec();
    payload.extend_from_slice(icc);
    jpeg_segment(0xE2, &payload)
}

#[test]
fn icc_profile_is_kept_only_when_it_fits_the_output() {
    let limits = Limits::default();
    let source = jpeg(&DynamicImage::ImageRgb8(gradient(32, 16)));
    let icc_of = |bytes: &[u8]| {
        let mut decoder = image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .expect("guess")
            .into_decoder()
            .expect("decoder");
        image::ImageDecoder::icc_profile(&mut decoder).expect("icc")
    };
    let rgb = fake_icc(b"RGB ");
    let p = process_image(&jpeg_with(source.clone(), &[icc_app2(&rgb)]), &limits).expect("ok");
    assert_eq!(icc_of(&p.original), Some(rgb.clone()));
    assert_eq!(icc_of(&p.preview), Some(rgb));
    let cmyk = fake_icc(b"CMYK");
    let p = process_image(&jpeg_with(source, &[icc_app2(&cmyk)]), &limits).expect("ok");
    assert_eq!(icc_of(&p.original), None);
}

#[test]
fn type_comes_from_bytes_not_names() {
    // There is no name to pass: a PNG is a PNG whatever it was called.
    let p = process_image(
        &png(&DynamicImage::ImageRgb8(solid(5, 5, [0, 0, 0]))),
        &Limits::default(),
    )
    .expect("ok");
    assert_eq!(p.original_content_type, "image/png");
}

// ---------------------------------------------------------------- hostile inputs

fn valid_samples() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "jpeg",
            jpeg_with(
                jpeg(&DynamicImage::ImageRgb8(gradient(40, 24))),
                &[exif_app1(6)],
            ),
        ),
        ("png", png(&DynamicImage::ImageRgba8(with_alpha(24, 16)))),
        ("gif", gif(&[with_alpha(16, 8)])),
        (
            "animated gif",
            gif(&[
                RgbaImage::from_pixel(8, 8, Rgba([1, 2, 3, 255])),
                RgbaImage::from_pixel(8, 8, Rgba([200, 2, 3, 255])),
            ]),
        ),
        ("webp", webp(&with_alpha(20, 12))),
        ("cmyk jpeg", cmyk_jpeg()),
        ("palette png", palette_png_with_trns()),
    ]
}

/// Runs the pipeline on arbitrary bytes: any result is fine as long as it is
/// not a panic and a success is a good output.
fn survive(name: &str, bytes: &[u8], limits: &Limits) {
    match process_image(bytes, limits) {
        Ok(p) => check_output(name, &p, limits),
        Err(
            MediaError::Corrupt(_)
            | MediaError::UnsupportedType
            | MediaError::Empty
            | MediaError::TooManyPixels { .. }
            | MediaError::TooManyFrames { .. },
        ) => {}
        Err(e) => panic!("{name}: unexpected error {e:?}"),
    }
}

#[test]
fn truncations_never_panic() {
    let limits = Limits::default();
    for (name, bytes) in valid_samples() {
        let step = (bytes.len() / 150).max(1);
        let mut cut = 0;
        while cut < bytes.len() {
            survive(&format!("{name} cut at {cut}"), &bytes[..cut], &limits);
            cut += step;
        }
        // The header alone must never be enough.
        for cut in 0..bytes.len().min(20) {
            assert!(
                process_image(&bytes[..cut], &limits).is_err(),
                "{name} {cut}"
            );
        }
    }
}

#[test]
fn bit_flips_never_panic() {
    let limits = Limits::default();
    let mut rng = Lcg(0x5EED);
    for (name, bytes) in valid_samples() {
        for round in 0..60 {
            let mut damaged = bytes.clone();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(damaged.len());
                damaged[at] ^= 1 << rng.below(8);
            }
            survive(&format!("{name} flip round {round}"), &damaged, &limits);
        }
    }
}

#[test]
fn random_bytes_are_refused() {
    let limits = Limits::default();
    let mut rng = Lcg(42);
    let magics: [&[u8]; 5] = [
        b"",
        b"\xFF\xD8\xFF",
        b"\x89PNG\r\n\x1a\n",
        b"GIF89a",
        b"RIFF\x00\x01\x00\x00WEBPVP8 ",
    ];
    for magic in magics {
        for round in 0..40 {
            let len = rng.below(3000);
            let mut bytes = magic.to_vec();
            bytes.extend(rng.bytes(len));
            let name = format!("random after {magic:?} round {round}");
            survive(&name, &bytes, &limits);
            if magic.is_empty() {
                assert!(process_image(&bytes, &limits).is_err(), "{name}");
            }
        }
    }
}

fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut p = PNG_SIGNATURE.to_vec();
    p.extend(ihdr(w, h, 8, 2));
    p.extend(png_chunk(b"IDAT", &zlib_stored(&[0, 1, 2, 3])));
    p.extend(png_chunk(b"IEND", &[]));
    p
}

/// A valid JPEG whose frame header claims `w`x`h`.
fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut j = jpeg(&DynamicImage::ImageRgb8(solid(16, 16, [5, 5, 5])));
    let sof = j
        .windows(2)
        .position(|m| m == [0xFF, 0xC0])
        .expect("baseline SOF");
    j[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    j[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    j
}

/// A lossless WebP header claiming `w`x`h` (each below 16384).
fn webp_claiming(w: u32, h: u32) -> Vec<u8> {
    let bits = (w - 1) | ((h - 1) << 14);
    let mut body = vec![0x2F];
    body.extend_from_slice(&bits.to_le_bytes());
    body.extend_from_slice(&[0; 16]);
    let mut v = b"RIFF".to_vec();
    let riff_len = u32::try_from(4 + 8 + body.len()).expect("short");
    v.extend_from_slice(&riff_len.to_le_bytes());
    v.extend_from_slice(b"WEBPVP8L");
    v.extend_from_slice(&u32::try_from(body.len()).expect("short").to_le_bytes());
    v.extend_from_slice(&body);
    v
}

#[test]
fn bombs_and_limits_table() {
    let defaults = Limits::default();
    let tiny_files = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let few_pixels = Limits {
        max_pixels: 5_000,
        ..Limits::default()
    };
    let small_png = png(&DynamicImage::ImageRgb8(gradient(100, 100)));
    let too_many_frames = |limit| MediaError::TooManyFrames { limit };
    let cases: Vec<(&str, Vec<u8>, &Limits, MediaError)> = vec![
        ("empty", vec![], &defaults, MediaError::Empty),
        (
            "png claiming 100000x100000",
            png_claiming(100_000, 100_000),
            &defaults,
            MediaError::TooManyPixels {
                width: 100_000,
                height: 100_000,
                limit: 33_177_600,
            },
        ),
        (
            "png claiming 6000x6000",
            png_claiming(6000, 6000),
            &defaults,
            MediaError::TooManyPixels {
                width: 6000,
                height: 6000,
                limit: 33_177_600,
            },
        ),
        (
            "png claiming 0x10",
            png_claiming(0, 10),
            &defaults,
            MediaError::Corrupt(String::new()),
        ),
        (
            "jpeg claiming 60000x60000",
            jpeg_claiming(60_000, 60_000),
            &defaults,
            MediaError::TooManyPixels {
                width: 60_000,
                height: 60_000,
                limit: 33_177_600,
            },
        ),
        (
            "webp claiming 16383x16383",
            webp_claiming(16_383, 16_383),
            &defaults,
            MediaError::TooManyPixels {
                width: 16_383,
                height: 16_383,
                limit: 33_177_600,
            },
        ),
        (
            "still gif claiming 65535x65535",
            gif_blocks(65_535, 65_535, 1),
            &defaults,
            MediaError::TooManyPixels {
                width: 65_535,
                height: 65_535,
                limit: 33_177_600,
            },
        ),
        (
            "animated gif with 5000 frames",
            gif_blocks(1, 1, 5000),
            &defaults,
            too_many_frames(1000),
        ),
        (
            "animated gif canvas above the original limit",
            gif_blocks(3000, 3000, 2),
            &defaults,
            MediaError::TooManyPixels {
                width: 3000,
                height: 3000,
                limit: 8_294_400,
            },
        ),
        (
            "animated gif over the frame-pixel budget",
            gif_blocks(1000, 1000, 400),
            &defaults,
            too_many_frames(300),
        ),
        (
            "gif without images",
            gif_blocks(10, 10, 0),
            &defaults,
            MediaError::Corrupt(String::new()),
        ),
        (
            "file over max_bytes",
            small_png.clone(),
            &tiny_files,
            MediaError::TooLarge {
                size: small_png.len(),
                limit: 100,
            },
        ),
        (
            "image over a custom pixel limit",
            small_png.clone(),
            &few_pixels,
            MediaError::TooManyPixels {
                width: 100,
                height: 100,
                limit: 5_000,
            },
        ),
        (
            "avif is sniffed but not processed",
            b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miafsome more".to_vec(),
            &defaults,
            MediaError::UnsupportedType,
        ),
        (
            "mp4 is not an image",
            b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2 and more".to_vec(),
            &defaults,
            MediaError::UnsupportedType,
        ),
        (
            "svg is not accepted",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>".to_vec(),
            &defaults,
            MediaError::UnsupportedType,
        ),
    ];
    for (name, bytes, limits, want) in cases {
        let got = process_image(&bytes, limits);
        match (&got, &want) {
            (Err(MediaError::Corrupt(_)), MediaError::Corrupt(_)) => {}
            (Err(e), want) => assert_eq!(e, want, "{name}"),
            (Ok(_), _) => panic!("{name}: expected {want:?}, got Ok"),
        }
        // Every refusal has a message fit for a user.
        let message = got.expect_err("refused").to_string();
        assert!(
            message.ends_with('.') && message.len() < 300,
            "{name}: {message}"
        );
    }
}

#[test]
fn huge_claim_with_tiny_data_within_limits_is_corrupt_not_a_hang() {
    // 4000x4000 is allowed, but there is no pixel data.
    let got = process_image(&png_claiming(4000, 4000), &Limits::default());
    assert!(matches!(got, Err(MediaError::Corrupt(_))), "{got:?}");
    let got = process_image(&jpeg_claiming(4000, 4000), &Limits::default());
    match got {
        Err(MediaError::Corrupt(_)) => {}
        // A lenient JPEG decoder may fill missing data; the output must still be sane.
        Ok(p) => check_output("jpeg claiming 4000x4000", &p, &Limits::default()),
        Err(e) => panic!("{e:?}"),
    }
}
