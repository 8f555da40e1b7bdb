//! Image sizes for elements Aquarium sent without one: read from the first bytes of the
//! image (PNG, JPEG, GIF, WebP, BMP headers), once per URL, and kept in the store.

use loopline_core::{ApiError, ErrorCode};

use crate::Engine;

/// Enough for a JPEG whose EXIF block comes before the frame header.
const HEAD_BYTES: usize = 256 * 1024;

/// (width, height) from an image's first bytes, or `None` when the format is not known.
pub fn size_from_header(b: &[u8]) -> Option<(u32, u32)> {
    let be16 = |i: usize| Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]) as u32);
    let le16 = |i: usize| Some(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]) as u32);
    let be32 = |i: usize| Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?));
    let le32 = |i: usize| Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?));
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((be32(16)?, be32(20)?));
    }
    if b.starts_with(b"GIF8") {
        return Some((le16(6)?, le16(8)?));
    }
    if b.starts_with(b"BM") {
        let h = le32(22)? as i32;
        return Some((le32(18)?, h.unsigned_abs()));
    }
    if b.len() > 30 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        return match &b[12..16] {
            b"VP8 " => Some((le16(26)? & 0x3fff, le16(28)? & 0x3fff)),
            b"VP8L" => {
                let bits = le32(21)?;
                Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
            }
            b"VP8X" => {
                let w = le32(24)? & 0xff_ffff;
                let h = le32(27)? & 0xff_ffff;
                Some((w + 1, h + 1))
            }
            _ => None,
        };
    }
    if b.starts_with(&[0xff, 0xd8]) {
        let mut i = 2;
        while i + 9 < b.len() {
            if b[i] != 0xff {
                i += 1;
                continue;
            }
            let marker = b[i + 1];
            // Start-of-frame markers carry the size; C4, C8 and CC are not frames.
            if (0xc0..=0xcf).contains(&marker) && ![0xc4, 0xc8, 0xcc].contains(&marker) {
                return Some((be16(i + 7)?, be16(i + 5)?));
            }
            if marker == 0xd8 || marker == 0x01 || (0xd0..=0xd7).contains(&marker) || marker == 0xff
            {
                i += if marker == 0xff { 1 } else { 2 };
                continue;
            }
            i += 2 + be16(i + 2)? as usize;
        }
    }
    None
}

impl Engine {
    /// The image's size: cached, or read from its header (only from an allowed host) and
    /// cached. A cached size contacts nothing, so it serves even after a host is forbidden.
    pub(crate) async fn image_size_of(&self, url: &str) -> Result<(u32, u32), ApiError> {
        if let Some(s) = self.store.image_size(url).await? {
            return Ok(s);
        }
        let (fetchable, hosts) = self.image_request(url).await?;
        let head = self.web.head_bytes(&fetchable, HEAD_BYTES, &hosts).await?;
        let size = size_from_header(&head).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                format!(
                    "{} is not a PNG, JPEG, GIF, WebP or BMP image Loopline can read the size of.",
                    url.split('?').next().unwrap_or(url)
                ),
            )
        })?;
        self.store
            .put_image_size(url, size.0, size.1, self.clock.now_ms())
            .await?;
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::size_from_header;

    #[test]
    fn reads_png_gif_bmp_and_jpeg_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&1920u32.to_be_bytes());
        png.extend_from_slice(&1080u32.to_be_bytes());
        assert_eq!(size_from_header(&png), Some((1920, 1080)));
        let gif = [
            b"GIF89a".as_slice(),
            &640u16.to_le_bytes(),
            &480u16.to_le_bytes(),
        ]
        .concat();
        assert_eq!(size_from_header(&gif), Some((640, 480)));
        // JPEG: SOI, an APP0 segment, then SOF0 with height 768 and width 1024.
        let jpeg = [
            &[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x4a, 0x46][..],
            &[0xff, 0xc0, 0x00, 0x11, 0x08, 0x03, 0x00, 0x04, 0x00, 0x03],
        ]
        .concat();
        assert_eq!(size_from_header(&jpeg), Some((1024, 768)));
        let mut bmp = vec![0u8; 26];
        bmp[0..2].copy_from_slice(b"BM");
        bmp[18..22].copy_from_slice(&300u32.to_le_bytes());
        bmp[22..26].copy_from_slice(&(-200i32).to_le_bytes());
        assert_eq!(size_from_header(&bmp), Some((300, 200)));
        assert_eq!(size_from_header(b"not an image at all, nothing here"), None);
    }
}
