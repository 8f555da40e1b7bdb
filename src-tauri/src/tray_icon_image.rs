//! The tray icon's pictures: the app icon with a status dot (green all well, amber needs
//! attention, blue working), drawn once at start from `icons/icon.png`.

use loopline_core::CompanionLevel;
use tauri::image::Image;

const SIZE: u32 = 32;
const ICON: &[u8] = include_bytes!("../../icons/icon.png");

/// The icon for a level, as RGBA at 32×32.
pub fn icon_for(level: CompanionLevel) -> Image<'static> {
    let base = Image::from_bytes(ICON).expect("icons/icon.png is a valid PNG");
    let mut rgba = downscale(base.rgba(), base.width(), base.height(), SIZE);
    let colour = match level {
        CompanionLevel::Ok => [0x2e, 0xa0, 0x43],
        CompanionLevel::Attention => [0xe0, 0x8a, 0x00],
        CompanionLevel::Working => [0x1f, 0x6f, 0xeb],
    };
    dot(&mut rgba, SIZE, colour);
    Image::new_owned(rgba, SIZE, SIZE)
}

/// A box filter: the source is a square far larger than the tray's size.
fn downscale(src: &[u8], w: u32, h: u32, size: u32) -> Vec<u8> {
    let mut out = vec![0u8; (size * size * 4) as usize];
    let (bx, by) = ((w / size).max(1), (h / size).max(1));
    for y in 0..size {
        for x in 0..size {
            let mut acc = [0u32; 4];
            for dy in 0..by {
                for dx in 0..bx {
                    let (sx, sy) = ((x * bx + dx).min(w - 1), (y * by + dy).min(h - 1));
                    let i = ((sy * w + sx) * 4) as usize;
                    for c in 0..4 {
                        acc[c] += src[i + c] as u32;
                    }
                }
            }
            let o = ((y * size + x) * 4) as usize;
            for c in 0..4 {
                out[o + c] = (acc[c] / (bx * by)) as u8;
            }
        }
    }
    out
}

/// A filled circle with a white ring in the bottom-right corner.
fn dot(rgba: &mut [u8], size: u32, colour: [u8; 3]) {
    let r = size as f32 * 0.22;
    let (cx, cy) = (size as f32 - r - 1.0, size as f32 - r - 1.0);
    for y in 0..size {
        for x in 0..size {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let i = ((y * size + x) * 4) as usize;
            if d <= r {
                rgba[i..i + 4].copy_from_slice(&[colour[0], colour[1], colour[2], 255]);
            } else if d <= r + 1.5 {
                rgba[i..i + 4].copy_from_slice(&[255, 255, 255, 255]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_has_its_own_picture() {
        let ok = icon_for(CompanionLevel::Ok);
        let attention = icon_for(CompanionLevel::Attention);
        assert_eq!((ok.width(), ok.height()), (SIZE, SIZE));
        assert_ne!(ok.rgba(), attention.rgba());
    }
}
