//! A cursor over a byte slice whose every read is bounds-checked: running
//! past the end is a [`MediaError::InvalidAv`] naming the format, never a
//! panic.

use crate::MediaError;

pub(crate) fn invalid(reason: impl Into<String>) -> MediaError {
    MediaError::InvalidAv(reason.into())
}

pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Format name used in error messages ("WAV", "FLAC", …).
    format: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8], format: &'static str) -> Self {
        Reader {
            data,
            pos: 0,
            format,
        }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Goes back to a position read before.
    pub fn rewind(&mut self, pos: usize) {
        self.pos = pos.min(self.pos);
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    pub fn truncated(&self) -> MediaError {
        invalid(format!("the {} file is truncated", self.format))
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], MediaError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len())
            .ok_or_else(|| self.truncated())?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// Reads `N` bytes into an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], MediaError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn skip(&mut self, n: usize) -> Result<(), MediaError> {
        self.take(n).map(|_| ())
    }

    pub fn u8(&mut self) -> Result<u8, MediaError> {
        self.array::<1>().map(|[b]| b)
    }

    pub fn u16_le(&mut self) -> Result<u16, MediaError> {
        self.array().map(u16::from_le_bytes)
    }

    pub fn u32_le(&mut self) -> Result<u32, MediaError> {
        self.array().map(u32::from_le_bytes)
    }

    pub fn u32_be(&mut self) -> Result<u32, MediaError> {
        self.array().map(u32::from_be_bytes)
    }

    pub fn u24_be(&mut self) -> Result<u32, MediaError> {
        self.array::<3>()
            .map(|[a, b, c]| u32::from_be_bytes([0, a, b, c]))
    }

    pub fn i64_le(&mut self) -> Result<i64, MediaError> {
        self.array().map(i64::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5], "test");
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16_le(), Ok(0x0302));
        assert_eq!(r.rest(), [4, 5]);
        r.rewind(1);
        assert_eq!(r.u32_be(), Ok(0x0203_0405));
        assert_eq!(r.remaining(), 0);
        assert_eq!(
            r.u8(),
            Err(MediaError::InvalidAv("the test file is truncated".into()))
        );
        let mut r = Reader::new(&[1], "test");
        assert!(r.take(usize::MAX).is_err());
        assert_eq!(r.pos(), 0);
    }
}
