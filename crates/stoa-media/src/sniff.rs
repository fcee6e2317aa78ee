//! Content types from magic bytes. The client's file name and content type are
//! never consulted.

use crate::MediaKind;

/// What `bytes` really are, from their first bytes only: the media kind and
/// the content type, or `None` for anything not recognised.
///
/// Recognised: JPEG, PNG, GIF, WebP, AVIF, HEIC (images; only the first four
/// can be processed by [`crate::process_image`]); MP4, QuickTime, 3GPP, WebM,
/// Ogg video (video); MP3, AAC (ADTS), M4A, Ogg, FLAC, WAV (audio).
/// MP4 files are reported as video even when they only hold sound.
pub fn sniff(bytes: &[u8]) -> Option<(MediaKind, &'static str)> {
    use MediaKind::{Audio, Image, Video};
    let b = bytes;
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some((Image, "image/jpeg"));
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((Image, "image/png"));
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Some((Image, "image/gif"));
    }
    if b.len() >= 12 && b.starts_with(b"RIFF") {
        return match b.get(8..12) {
            Some(b"WEBP") => Some((Image, "image/webp")),
            Some(b"WAVE") => Some((Audio, "audio/wav")),
            _ => None,
        };
    }
    if b.len() >= 12 && b.get(4..8) == Some(b"ftyp") {
        return sniff_iso_bmff(b);
    }
    if b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        // EBML: only the WebM flavour of Matroska is accepted.
        let head = &b[..b.len().min(4096)];
        return contains(head, b"webm").then_some((Video, "video/webm"));
    }
    if b.starts_with(b"OggS") {
        let head = &b[..b.len().min(512)];
        if contains(head, b"\x80theora") {
            return Some((Video, "video/ogg"));
        }
        return Some((Audio, "audio/ogg"));
    }
    if b.starts_with(b"fLaC") {
        return Some((Audio, "audio/flac"));
    }
    if b.starts_with(b"ID3") {
        return Some((Audio, "audio/mpeg"));
    }
    if let [0xFF, b1, b2, ..] = *b {
        // ADTS (AAC): 12-bit sync, layer 00.
        if b1 & 0xF6 == 0xF0 {
            return Some((Audio, "audio/aac"));
        }
        // MPEG audio frame: 11-bit sync, a valid version, layer, bitrate and
        // sample rate.
        let version = (b1 >> 3) & 0b11;
        let layer = (b1 >> 1) & 0b11;
        let bitrate = b2 >> 4;
        let rate = (b2 >> 2) & 0b11;
        if b1 & 0xE0 == 0xE0 && version != 0b01 && layer != 0 && bitrate != 0xF && rate != 0b11 {
            return Some((Audio, "audio/mpeg"));
        }
    }
    None
}

/// ISO base media files (`ftyp` box): MP4, QuickTime, 3GPP, M4A, AVIF, HEIC.
fn sniff_iso_bmff(b: &[u8]) -> Option<(MediaKind, &'static str)> {
    use MediaKind::{Audio, Image, Video};
    let major = b.get(8..12)?;
    // Compatible brands follow the major brand and the minor version.
    let box_len = b
        .get(0..4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
        .unwrap_or(0)
        .clamp(12, 256)
        .min(b.len());
    let mut brands = vec![major];
    let mut at = 16;
    while at + 4 <= box_len {
        brands.push(&b[at..at + 4]);
        at += 4;
    }
    let has = |want: &[&[u8]]| brands.iter().any(|brand| want.contains(brand));
    if has(&[b"avif", b"avis"]) {
        return Some((Image, "image/avif"));
    }
    if has(&[
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
    ]) {
        return Some((Image, "image/heic"));
    }
    match major {
        b"qt  " => Some((Video, "video/quicktime")),
        b"M4A " | b"M4B " | b"M4P " => Some((Audio, "audio/mp4")),
        brand if brand.starts_with(b"3g") => Some((Video, "video/3gpp")),
        _ => Some((Video, "video/mp4")),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The file extension to store a file of `content_type` under (without the
/// dot), for the content types [`sniff`], [`crate::process_image`] and
/// [`crate::process_av`] return.
pub fn extension_for(content_type: &str) -> Option<&'static str> {
    Some(match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/avif" => "avif",
        "image/heic" => "heic",
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/3gpp" => "3gp",
        "video/webm" => "webm",
        "video/ogg" => "ogv",
        "audio/webm" => "webm",
        "audio/mpeg" => "mp3",
        "audio/aac" => "aac",
        "audio/mp4" => "m4a",
        "audio/ogg" => "ogg",
        "audio/flac" => "flac",
        "audio/wav" => "wav",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use MediaKind::{Audio, Image, Video};

    #[test]
    fn magic_bytes_table() {
        let mut mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
        mp4.extend_from_slice(&[0; 16]);
        type Case<'a> = (&'a [u8], Option<(MediaKind, &'a str)>);
        let cases: &[Case] = &[
            (b"\xFF\xD8\xFF\xE0\0\x10JFIF", Some((Image, "image/jpeg"))),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some((Image, "image/png"))),
            (b"GIF89a\x01\0\x01\0", Some((Image, "image/gif"))),
            (b"GIF87a\x01\0\x01\0", Some((Image, "image/gif"))),
            (b"RIFF\x10\0\0\0WEBPVP8 ", Some((Image, "image/webp"))),
            (b"RIFF\x10\0\0\0WAVEfmt ", Some((Audio, "audio/wav"))),
            (b"RIFF\x10\0\0\0AVI LIST", None),
            (&mp4, Some((Video, "video/mp4"))),
            (
                b"\0\0\0\x14ftypqt  \0\0\0\0qt  ",
                Some((Video, "video/quicktime")),
            ),
            (
                b"\0\0\0\x14ftypM4A \0\0\0\0M4A ",
                Some((Audio, "audio/mp4")),
            ),
            (
                b"\0\0\0\x14ftyp3gp5\0\0\0\x003gp5",
                Some((Video, "video/3gpp")),
            ),
            (
                b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf",
                Some((Image, "image/avif")),
            ),
            (
                b"\0\0\0\x18ftypmif1\0\0\0\0mif1avif",
                Some((Image, "image/avif")),
            ),
            (
                b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
                Some((Image, "image/heic")),
            ),
            (
                b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm",
                Some((Video, "video/webm")),
            ),
            (
                b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska",
                None,
            ),
            (
                b"OggS\0\x02\0\0\0\0\0\0\0\0\x01\x1e\x01vorbis",
                Some((Audio, "audio/ogg")),
            ),
            (
                b"OggS\0\x02\0\0\0\0\0\0\0\0\x80theora",
                Some((Video, "video/ogg")),
            ),
            (b"fLaC\0\0\0\x22", Some((Audio, "audio/flac"))),
            (b"ID3\x04\0\0\0\0\0\0", Some((Audio, "audio/mpeg"))),
            (b"\xFF\xFB\x90\x64", Some((Audio, "audio/mpeg"))),
            (b"\xFF\xF1\x50\x80", Some((Audio, "audio/aac"))),
            (b"\xFF\xFF\xFF\xFF", None),
            (b"<svg xmlns=", None),
            (b"%PDF-1.7", None),
            (b"", None),
            (b"\xFF", None),
            (b"RIFF", None),
            (b"\0\0\0\x08ftyp", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(sniff(bytes), *want, "{bytes:?}");
        }
    }

    #[test]
    fn every_sniffed_type_has_an_extension() {
        for ct in [
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/webp",
            "image/avif",
            "image/heic",
            "video/mp4",
            "video/quicktime",
            "video/3gpp",
            "video/webm",
            "video/ogg",
            "audio/mpeg",
            "audio/aac",
            "audio/mp4",
            "audio/ogg",
            "audio/flac",
            "audio/wav",
            "audio/webm",
        ] {
            assert!(extension_for(ct).is_some(), "{ct}");
        }
        assert_eq!(extension_for("text/html"), None);
    }
}
