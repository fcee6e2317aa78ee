//! A walk over the block structure of a GIF file, without decoding pixels.
//!
//! It counts the frames (so an animation with too many frames is refused
//! before any of them is decoded) and rewrites the file keeping only what is
//! needed to show it: the header, the colour tables, the image blocks, their
//! graphic control extensions and the looping extension. Comments, XMP, ICC
//! and any other application blocks, plain-text blocks and bytes after the
//! trailer are dropped.

use crate::MediaError;

pub(crate) struct GifScan {
    pub width: u32,
    pub height: u32,
    pub frames: u64,
    /// The file with only the blocks listed above, ending with a trailer.
    pub stripped: Vec<u8>,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MediaError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len());
        let Some(end) = end else {
            return Err(truncated());
        };
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8, MediaError> {
        self.take(1).map(|b| b[0])
    }

    /// Skips a chain of data sub-blocks, up to and including the empty one.
    fn skip_sub_blocks(&mut self) -> Result<(), MediaError> {
        loop {
            let len = self.byte()?;
            if len == 0 {
                return Ok(());
            }
            self.take(usize::from(len))?;
        }
    }
}

fn truncated() -> MediaError {
    MediaError::Corrupt("the GIF file is truncated".into())
}

fn color_table_len(packed: u8) -> usize {
    if packed & 0x80 == 0 {
        0
    } else {
        3 << ((packed & 0x07) + 1)
    }
}

/// Walks `bytes` (which must start with a GIF signature). Fails with
/// [`MediaError::TooManyFrames`] as soon as more than `max_frames` image
/// blocks are seen.
pub(crate) fn scan(bytes: &[u8], max_frames: u64) -> Result<GifScan, MediaError> {
    let mut r = Reader {
        data: bytes,
        pos: 0,
    };
    let header = r.take(6)?;
    if header != b"GIF87a" && header != b"GIF89a" {
        return Err(MediaError::UnsupportedType);
    }
    let screen = r.take(7)?;
    let width = u32::from(u16::from_le_bytes([screen[0], screen[1]]));
    let height = u32::from(u16::from_le_bytes([screen[2], screen[3]]));
    let global_table = r.take(color_table_len(screen[4]))?;

    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(header);
    out.extend_from_slice(screen);
    out.extend_from_slice(global_table);

    let mut frames = 0u64;
    let mut pending_control: Option<&[u8]> = None;
    loop {
        let start = r.pos;
        // A missing trailer is tolerated when the data ends between blocks.
        let Ok(introducer) = r.byte() else { break };
        match introducer {
            0x21 => {
                let label = r.byte()?;
                let body = r.pos;
                r.skip_sub_blocks()?;
                let block = &bytes[start..r.pos];
                match label {
                    // Graphic control: delay, disposal, transparency of the
                    // next image.
                    0xF9 => pending_control = Some(block),
                    // Application: keep only the looping extensions.
                    0xFF => {
                        let id = bytes.get(body + 1..body + 12);
                        let first_len = bytes.get(body).copied();
                        if first_len == Some(11)
                            && matches!(id, Some(b"NETSCAPE2.0") | Some(b"ANIMEXTS1.0"))
                        {
                            out.extend_from_slice(block);
                        }
                    }
                    // Plain text is a graphic block: its control goes with it.
                    0x01 => pending_control = None,
                    // Comments and unknown extensions.
                    _ => {}
                }
            }
            0x2C => {
                let descriptor = r.take(9)?;
                r.take(color_table_len(descriptor[8]))?;
                let _lzw_minimum_code_size = r.byte()?;
                r.skip_sub_blocks()?;
                frames += 1;
                if frames > max_frames {
                    return Err(MediaError::TooManyFrames { limit: max_frames });
                }
                if let Some(control) = pending_control.take() {
                    out.extend_from_slice(control);
                }
                out.extend_from_slice(&bytes[start..r.pos]);
            }
            0x3B => break,
            other => {
                return Err(MediaError::Corrupt(format!(
                    "unexpected GIF block 0x{other:02x}"
                )))
            }
        }
    }
    out.push(0x3B);
    Ok(GifScan {
        width,
        height,
        frames,
        stripped: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1x1 GIF: header, screen with a 2-colour table, then `body`.
    fn gif_with(body: &[u8]) -> Vec<u8> {
        let mut g = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
        g.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        g.extend_from_slice(body);
        g
    }

    const IMAGE: &[u8] = b"\x2C\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\0";
    const CONTROL: &[u8] = b"\x21\xF9\x04\0\x0A\0\0\0";
    const LOOP: &[u8] = b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\0\0\0";
    const COMMENT: &[u8] = b"\x21\xFE\x0Bsecret GPS!\0";
    const XMP: &[u8] = b"\x21\xFF\x0BXMP DataXMP\x05<xmp>\0";

    #[test]
    fn keeps_images_and_looping_drops_metadata() {
        let mut body = Vec::new();
        for part in [LOOP, COMMENT, XMP, CONTROL, IMAGE, CONTROL, IMAGE] {
            body.extend_from_slice(part);
        }
        body.push(0x3B);
        body.extend_from_slice(b"trailing polyglot data");
        let scan = scan(&gif_with(&body), 10).expect("valid");
        assert_eq!((scan.width, scan.height, scan.frames), (1, 1, 2));
        let mut want_body = Vec::new();
        for part in [LOOP, CONTROL, IMAGE, CONTROL, IMAGE] {
            want_body.extend_from_slice(part);
        }
        want_body.push(0x3B);
        assert_eq!(scan.stripped, gif_with(&want_body));
    }

    #[test]
    fn frame_limit_and_truncation() {
        let mut body = Vec::new();
        for _ in 0..5 {
            body.extend_from_slice(IMAGE);
        }
        assert!(matches!(
            scan(&gif_with(&body), 4),
            Err(MediaError::TooManyFrames { limit: 4 })
        ));
        let full = gif_with(&body);
        // Missing trailer at a block boundary is fine; cut inside a block is not.
        assert_eq!(scan(&full, 5).map(|s| s.frames), Ok(5));
        assert!(matches!(
            scan(&full[..full.len() - 3], 5),
            Err(MediaError::Corrupt(_))
        ));
        for cut in 0..full.len() {
            let _ = scan(&full[..cut], 5);
        }
        assert!(matches!(
            scan(&gif_with(b"\x99"), 5),
            Err(MediaError::Corrupt(_))
        ));
    }
}
