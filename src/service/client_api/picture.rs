//! An uploaded image made into what we store and serve: the type sniffed from its
//! bytes (never the declared one), its size read from the header before anything is
//! decoded (a decompression bomb is refused there), decoded within a memory limit,
//! turned upright by its EXIF orientation, and re-encoded without any of its metadata
//! (EXIF, GPS, XMP, comments), with a preview and a blurhash. Pure and CPU-bound:
//! callers run it on a blocking thread.

use std::io::Cursor;

use image::{
    DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits,
    codecs::{
        jpeg::JpegEncoder,
        png::{CompressionType, FilterType as PngFilter, PngEncoder},
    },
    imageops::FilterType,
};

/// What apps may upload, as the error message and the README say.
pub const ACCEPTED: &str = "JPEG, PNG, WebP or GIF";
/// Larger originals are scaled down to this many pixels (Mastodon's 3840 × 2160).
const STORED_PIXELS: u64 = 3840 * 2160;
/// The preview's pixels at most (Mastodon's `small`: 640 × 360).
const PREVIEW_PIXELS: u64 = 640 * 360;
const JPEG_QUALITY: u8 = 85;
/// The blurhash is computed from a thumbnail this wide at most: it is a blur anyway.
const BLURHASH_SIDE: u32 = 64;

#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    #[error("unsupported media type: only {ACCEPTED} images are accepted")]
    Unsupported,
    #[error("the image is {width}x{height} pixels; at most {max} pixels are accepted")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("the image cannot be read: {0}")]
    Unreadable(String),
    #[error("the image could not be encoded: {0}")]
    Encode(#[source] image::ImageError),
}

/// One stored rendition.
#[derive(Debug, Clone)]
pub struct Rendition {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// An upload, processed.
#[derive(Debug, Clone)]
pub struct Picture {
    /// Of both renditions: `image/jpeg` or `image/png`.
    pub media_type: &'static str,
    pub original: Rendition,
    pub preview: Rendition,
    pub blurhash: Option<String>,
}

impl Picture {
    pub fn extension(&self) -> &'static str {
        extension(self.media_type)
    }
}

/// The file extension of a stored media type.
pub fn extension(media_type: &str) -> &'static str {
    match media_type {
        "image/png" => "png",
        _ => "jpg",
    }
}

/// Sniffs, checks, decodes and re-encodes `bytes`; at most `max_pixels` pixels.
pub fn process(bytes: &[u8], max_pixels: u64) -> Result<Picture, PictureError> {
    let format = match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif)) => f,
        _ => return Err(PictureError::Unsupported),
    };
    let unreadable = |e: image::ImageError| PictureError::Unreadable(e.to_string());
    // The header only: nothing is allocated for the pixels before this check.
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(unreadable)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(PictureError::TooManyPixels {
            width,
            height,
            max: max_pixels,
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    // 16-bit RGBA, and as much again for the decoder's own buffers.
    limits.max_alloc = Some(pixels.saturating_mul(16).max(1 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    // The colour profile is kept (colours stay right); everything else is dropped.
    let icc = decoder.icc_profile().ok().flatten();
    // A GIF's or WebP's first frame.
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    let image = fit(&image, STORED_PIXELS, FilterType::CatmullRom);
    // Photos become JPEG; what may be drawn or transparent stays lossless.
    let png = matches!(format, ImageFormat::Png | ImageFormat::Gif) || uses_alpha(&image);
    let preview = fit(&image, PREVIEW_PIXELS, FilterType::Triangle);
    let blurhash = blurhash_of(&preview);
    Ok(Picture {
        media_type: if png { "image/png" } else { "image/jpeg" },
        original: encode(&image, png, icc.clone())?,
        preview: encode(&preview, png, icc)?,
        blurhash,
    })
}

/// `image` scaled down (never up) to at most `pixels`, keeping its aspect ratio.
fn fit(image: &DynamicImage, pixels: u64, filter: FilterType) -> DynamicImage {
    let (w, h) = (image.width(), image.height());
    let has = u64::from(w) * u64::from(h);
    if has <= pixels {
        return image.clone();
    }
    let scale = (pixels as f64 / has as f64).sqrt();
    let nw = ((f64::from(w) * scale).floor() as u32).max(1);
    let nh = ((f64::from(h) * scale).floor() as u32).max(1);
    image.resize(nw, nh, filter)
}

fn uses_alpha(image: &DynamicImage) -> bool {
    image.has_alpha() && image.to_rgba8().pixels().any(|p| p.0[3] < u8::MAX)
}

/// Encodes 8-bit pixels: PNG (RGBA if it has alpha) or JPEG (RGB); no metadata but
/// the colour profile.
fn encode(
    image: &DynamicImage,
    png: bool,
    icc: Option<Vec<u8>>,
) -> Result<Rendition, PictureError> {
    let mut bytes = Vec::new();
    let result = if png {
        let mut encoder =
            PngEncoder::new_with_quality(&mut bytes, CompressionType::Default, PngFilter::Adaptive);
        if let Some(icc) = icc {
            // Refused only by encoders without profiles; PNG has them.
            let _ = encoder.set_icc_profile(icc);
        }
        if image.has_alpha() {
            DynamicImage::ImageRgba8(image.to_rgba8()).write_with_encoder(encoder)
        } else {
            DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder)
        }
    } else {
        let mut encoder = JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY);
        if let Some(icc) = icc {
            let _ = encoder.set_icc_profile(icc);
        }
        DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder)
    };
    result.map_err(PictureError::Encode)?;
    Ok(Rendition {
        bytes,
        width: image.width(),
        height: image.height(),
    })
}

/// Mastodon's blurhash: 4 × 4 components (fewer along a very short side).
fn blurhash_of(image: &DynamicImage) -> Option<String> {
    let small = image.thumbnail(BLURHASH_SIDE, BLURHASH_SIDE).to_rgba8();
    let (w, h) = small.dimensions();
    blurhash::encode(4.min(w), 4.min(h), w, h, small.as_raw()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn text_is_not_an_image_whatever_its_name() {
        let err = process(b"hello, I am a .png", 1000).unwrap_err();
        assert!(matches!(err, PictureError::Unsupported));
    }

    #[test]
    fn the_pixel_limit_is_checked_from_the_header() {
        // A PNG header claiming 100000 x 100000 pixels, with a few bytes of data.
        fn chunk(png: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
            png.extend((data.len() as u32).to_be_bytes());
            let body = [kind, data].concat();
            let mut crc = flate2::Crc::new();
            crc.update(&body);
            png.extend(body);
            png.extend(crc.sum().to_be_bytes());
        }
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let ihdr = [100_000u32.to_be_bytes(), 100_000u32.to_be_bytes()].concat();
        chunk(
            &mut png,
            b"IHDR",
            &[ihdr.as_slice(), &[8, 6, 0, 0, 0]].concat(),
        );
        chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0, 0]);
        chunk(&mut png, b"IEND", &[]);
        let err = process(&png, 40_000_000).unwrap_err();
        assert!(
            matches!(err, PictureError::TooManyPixels { width: 100_000, .. }),
            "{err}"
        );
    }

    #[test]
    fn large_photos_are_scaled_and_previewed() {
        let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(1600, 1200, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        }));
        let p = process(&encoded(&image, ImageFormat::Png), 40_000_000).unwrap();
        assert_eq!(p.media_type, "image/png");
        assert_eq!((p.original.width, p.original.height), (1600, 1200));
        assert!(u64::from(p.preview.width * p.preview.height) <= PREVIEW_PIXELS);
        assert!((p.preview.width * 3).abs_diff(p.preview.height * 4) <= 4);
        assert!(p.blurhash.is_some());
    }

    #[test]
    fn a_gif_is_its_first_frame_as_png() {
        let frame = |v: u8| {
            image::Frame::new(image::RgbaImage::from_pixel(
                8,
                4,
                image::Rgba([v, 0, 0, 255]),
            ))
        };
        let mut gif = Vec::new();
        {
            let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
            encoder.encode_frames([frame(200), frame(10)]).unwrap();
        }
        let p = process(&gif, 1000).unwrap();
        assert_eq!(p.media_type, "image/png");
        let decoded = image::load_from_memory(&p.original.bytes)
            .unwrap()
            .to_rgb8();
        assert_eq!(decoded.dimensions(), (8, 4));
        assert!(decoded.get_pixel(0, 0).0[0] > 150);
    }

    #[test]
    fn transparent_webp_stays_lossless() {
        let image = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(10, 10, |x, _| {
            image::Rgba([255, 0, 0, if x < 5 { 0 } else { 255 }])
        }));
        let p = process(&encoded(&image, ImageFormat::WebP), 1000).unwrap();
        assert_eq!(p.media_type, "image/png");
        let opaque = DynamicImage::ImageRgb8(image.to_rgb8());
        let p = process(&encoded(&opaque, ImageFormat::WebP), 1000).unwrap();
        assert_eq!(p.media_type, "image/jpeg");
    }
}
