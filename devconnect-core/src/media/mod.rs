//! Images: validation by content, re-encoding (which strips EXIF/GPS and any other
//! metadata), and where they are kept.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use devconnect_types::{
    AnyMessage, BlockedUser, ChatPartner, ConnectionRequest, Conversation, DirectConversation, FeedPage, Group,
    GroupConversation, GroupMessage, GroupPage, Me, Message, MyGroup, Profile, Report, Reported, Sent, SyncPage,
    UserId,
};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

pub use crate::config::{DEFAULT_DECODE_BUDGET, DEFAULT_UPLOAD_LIMIT};
use crate::{DevConnect, Error, Result};

#[cfg(feature = "cloudinary")]
pub mod cloudinary;

/// Largest accepted width or height, in pixels (guards against decompression bombs).
pub const MAX_IMAGE_SIDE: u32 = 8192;
/// Largest accepted image, in pixels: 40 megapixels, above the photos of today's
/// phone cameras. Checked from the header, before any pixel is decoded.
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;
/// The decoded pixels are held up to this many times at once: as decoded, converted for
/// the encoder, and rotated.
const DECODE_COPIES: u64 = 3;

/// Raw bytes of an uploaded image, as received. Their declared name or content type is
/// never trusted; the content decides.
#[derive(Clone, PartialEq, Eq)]
pub struct Upload(pub Vec<u8>);

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Upload({} bytes)", self.0.len())
    }
}

impl From<Vec<u8>> for Upload {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

/// An accepted image kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    /// JPEG (`.jpg`)
    Jpeg,
    /// PNG (`.png`)
    Png,
    /// WebP (`.webp`)
    Webp,
}

impl ImageKind {
    /// The file extension.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
        }
    }

    /// The MIME type.
    #[must_use]
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    /// The kind a stored name's extension says (`jpg`, `png`, `webp`).
    #[must_use]
    pub fn from_extension(ext: &str) -> Option<Self> {
        match ext {
            "jpg" => Some(Self::Jpeg),
            "png" => Some(Self::Png),
            "webp" => Some(Self::Webp),
            _ => None,
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::Webp => ImageFormat::WebP,
        }
    }
}

/// A validated, re-encoded image with an unguessable file name.
#[derive(Clone)]
pub struct Image {
    /// The re-encoded bytes (no metadata).
    pub bytes: Vec<u8>,
    /// The kind.
    pub kind: ImageKind,
    /// `<32 random hex digits>.<ext>`.
    pub name: String,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image").field("kind", &self.kind).field("name", &self.name).finish_non_exhaustive()
    }
}

/// What an upload's header says, read without decoding a pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageHeader {
    /// The kind, recognised by content.
    pub kind: ImageKind,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The most memory decoding and re-encoding it may take, in bytes.
    pub decode_cost: u64,
}

/// Checks an upload's size, kind (by magic bytes) and dimensions from its header:
/// everything that can refuse it before the memory of its pixels is committed.
pub fn probe_image(upload: &Upload, limit: usize) -> Result<ImageHeader> {
    let bytes = &upload.0;
    if bytes.len() > limit {
        return Err(Error::PayloadTooLarge { limit });
    }
    if bytes.is_empty() {
        return Err(Error::validation("image", "is empty"));
    }
    let kind = match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => ImageKind::Jpeg,
        Ok(ImageFormat::Png) => ImageKind::Png,
        Ok(ImageFormat::WebP) => ImageKind::Webp,
        _ => return Err(Error::UnsupportedMediaType("only JPEG, PNG and WebP images are accepted")),
    };
    let decoder = ImageReader::with_format(Cursor::new(bytes.as_slice()), kind.format())
        .into_decoder()
        .map_err(|_| Error::validation("image", "is not a readable image"))?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || pixels > MAX_IMAGE_PIXELS {
        return Err(Error::validation(
            "image",
            format!(
                "is {width} × {height} pixels; at most {MAX_IMAGE_SIDE} a side and {} megapixels",
                MAX_IMAGE_PIXELS / 1_000_000
            ),
        ));
    }
    // The encoder takes 8-bit RGB(A): at least 4 bytes a pixel once converted.
    let per_copy = decoder.total_bytes().max(pixels * 4);
    Ok(ImageHeader { kind, width, height, decode_cost: per_copy.saturating_mul(DECODE_COPIES) })
}

/// Checks an upload by its content (magic bytes), size and dimensions, decodes it within
/// the memory its header announced, applies its EXIF orientation, and re-encodes it
/// without metadata. Callers bound how many run at once by [`ImageHeader::decode_cost`]
/// ([`probe_image`]); this checks the header again itself.
pub fn process_image(upload: &Upload, limit: usize) -> Result<Image> {
    let header = probe_image(upload, limit)?;
    let kind = header.kind;
    let unreadable = |_| Error::validation("image", "is not a readable image");
    let mut reader = ImageReader::with_format(Cursor::new(upload.0.as_slice()), kind.format());
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(header.decode_cost);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    // A damaged EXIF block only loses the rotation; the pixels are still fine.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut decoded = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    decoded.apply_orientation(orientation);
    let decoded = match kind {
        // JPEG has no alpha; the WebP encoder takes 8-bit RGB(A) only.
        ImageKind::Jpeg => DynamicImage::ImageRgb8(decoded.to_rgb8()),
        ImageKind::Webp if decoded.color().has_alpha() => DynamicImage::ImageRgba8(decoded.to_rgba8()),
        ImageKind::Webp => DynamicImage::ImageRgb8(decoded.to_rgb8()),
        ImageKind::Png => decoded,
    };
    let mut out = Cursor::new(Vec::new());
    decoded.write_to(&mut out, kind.format()).map_err(Error::internal)?;
    let name = format!("{}.{}", hex::encode(crate::random_bytes::<16>()?), kind.extension());
    Ok(Image { bytes: out.into_inner(), kind, name })
}

/// The memory budget of the image decodes running at once: each decode holds its
/// header's [`ImageHeader::decode_cost`] (in KiB permits) while it runs, so the memory
/// they take together stays within the budget whatever the number of uploads.
pub(crate) struct DecodeBudget {
    permits: tokio::sync::Semaphore,
    kib: u32,
}

impl DecodeBudget {
    pub(crate) fn new(bytes: usize) -> Self {
        let kib = u32::try_from(bytes / 1024)
            .unwrap_or(u32::MAX)
            .clamp(1, u32::try_from(tokio::sync::Semaphore::MAX_PERMITS).unwrap_or(u32::MAX));
        Self { permits: tokio::sync::Semaphore::new(kib as usize), kib }
    }
}
/// Where images are kept. Implementations store an already validated, re-encoded image
/// and return the reference records keep; [`MediaStore::public_url`] turns a reference
/// into the URL clients load it from, whenever it is read, so the public address can
/// change without rewriting any record.
#[async_trait]
pub trait MediaStore: Send + Sync + 'static {
    /// Stores `image`; returns the reference to keep in records.
    async fn put(&self, image: &Image) -> Result<String>;
    /// Deletes the image `stored` refers to if this store holds it; other references
    /// are ignored.
    async fn delete(&self, stored: &str) -> Result<()>;
    /// The absolute URL clients load the image `stored` refers to from. An absolute URL
    /// (Cloudinary's, the original database's) is one already.
    fn public_url(&self, stored: &str) -> String {
        stored.to_owned()
    }
    /// The image this store serves itself under `name` (the last segment of its public
    /// URL); `None` if `name` is not one this store could have made, or it is gone.
    /// Stores whose images are served elsewhere (Cloudinary) serve none.
    async fn get(&self, name: &str) -> Result<Option<StoredImage>> {
        let _ = name;
        Ok(None)
    }
}

/// A stored image, as [`MediaStore::get`] reads it back.
#[derive(Clone)]
pub struct StoredImage {
    /// The kind, which decides the content type.
    pub kind: ImageKind,
    /// The bytes as stored.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for StoredImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredImage").field("kind", &self.kind).field("len", &self.bytes.len()).finish()
    }
}

/// Values that carry media references (profiles, messages, and what holds them): the
/// core publishes them with absolute URLs, [`MediaStore::public_url`], as it hands them
/// out.
pub(crate) trait PublicUrls {
    /// `self` with every media reference turned into its public URL.
    #[must_use]
    fn with_public_urls(self, media: &dyn MediaStore) -> Self;
}

impl PublicUrls for UserId {
    fn with_public_urls(self, _: &dyn MediaStore) -> Self {
        self
    }
}

impl<T: PublicUrls> PublicUrls for Vec<T> {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        self.into_iter().map(|v| v.with_public_urls(media)).collect()
    }
}

impl<T: PublicUrls> PublicUrls for Option<T> {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        self.map(|v| v.with_public_urls(media))
    }
}

impl PublicUrls for Profile {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        Self { photo_url: self.photo_url.map(|u| media.public_url(&u)), ..self }
    }
}

impl PublicUrls for devconnect_types::search::SearchPage {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        let results = self
            .results
            .into_iter()
            .map(|r| devconnect_types::search::SearchResult { profile: r.profile.with_public_urls(media), ..r })
            .collect();
        Self { results, ..self }
    }
}

impl PublicUrls for Group {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        Self { photo_url: self.photo_url.map(|u| media.public_url(&u)), ..self }
    }
}

impl PublicUrls for MyGroup {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        Self { group: self.group.with_public_urls(media), ..self }
    }
}

impl PublicUrls for GroupPage {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        Self { groups: self.groups.with_public_urls(media), ..self }
    }
}

impl PublicUrls for Me {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        Self { profile: self.profile.with_public_urls(media), ..self }
    }
}

impl PublicUrls for Message {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        Self { image: self.image.map(|u| media.public_url(&u)), ..self }
    }
}

impl PublicUrls for GroupMessage {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        Self { image: self.image.map(|u| media.public_url(&u)), ..self }
    }
}

impl PublicUrls for Conversation {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        match self {
            Self::Direct(c) => Self::Direct(DirectConversation {
                user: c.user.with_public_urls(media),
                last_message: c.last_message.with_public_urls(media),
                ..c
            }),
            Self::Group(c) => Self::Group(GroupConversation {
                group: c.group.with_public_urls(media),
                last_message: c.last_message.with_public_urls(media),
                ..c
            }),
        }
    }
}

impl PublicUrls for AnyMessage {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        match self {
            Self::Direct(m) => Self::Direct(m.with_public_urls(media)),
            Self::Group(m) => Self::Group(m.with_public_urls(media)),
        }
    }
}

impl<F: PublicUrls, T: PublicUrls> PublicUrls for ConnectionRequest<F, T> {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        let (from, to) = (self.from_user_id.with_public_urls(media), self.to_user_id.with_public_urls(media));
        ConnectionRequest { from_user_id: from, to_user_id: to, ..self }
    }
}

impl PublicUrls for BlockedUser {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        Self { user: self.user.with_public_urls(media), ..self }
    }
}

impl PublicUrls for Report {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        let snapshot = match self.snapshot {
            Reported::User { user } => Reported::User { user: user.with_public_urls(media) },
            Reported::Message { message } => Reported::Message { message: message.with_public_urls(media) },
            Reported::Group { group } => Reported::Group { group: group.with_public_urls(media) },
        };
        Self { snapshot, ..self }
    }
}

impl PublicUrls for ChatPartner {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        let (profile, last_message) = (self.profile.with_public_urls(media), self.last_message.with_public_urls(media));
        Self { profile, last_message, ..self }
    }
}

impl PublicUrls for FeedPage {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        Self { profiles: self.profiles.with_public_urls(media), ..self }
    }
}

impl<M: PublicUrls> PublicUrls for Sent<M> {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        Self { message: self.message.with_public_urls(media), ..self }
    }
}

impl PublicUrls for SyncPage {
    fn with_public_urls(self, media: &dyn MediaStore) -> Self {
        Self { messages: self.messages.with_public_urls(media), ..self }
    }
}

/// The media name in a stored reference: a bare name (what [`LocalMedia`] stores), or
/// the last segment of a relative URL stored by earlier versions (`/media/<name>`).
/// Absolute URLs are never local.
fn local_name(stored: &str) -> Option<&str> {
    if stored.contains("://") {
        return None;
    }
    stored.rsplit('/').next().filter(|name| is_media_name(name))
}

/// Images as files in a local directory, served by the HTTP frontend under `base_url`
/// (absolute: the server's public URL and `/media`). Records keep the file's name.
#[derive(Clone, Debug)]
pub struct LocalMedia {
    dir: PathBuf,
    base_url: String,
}

impl LocalMedia {
    /// Keeps images in `dir` (created if missing); their URLs are `{base_url}/{name}`.
    pub fn new(dir: impl Into<PathBuf>, base_url: impl Into<String>) -> Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(Error::internal)?;
        Ok(Self { dir, base_url: base_url.into().trim_end_matches('/').to_owned() })
    }

    /// The directory images are kept in.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of a stored image by name, or `None` if `name` is not a name this store
    /// could have produced (so no path traversal is possible).
    #[must_use]
    pub fn path_of(&self, name: &str) -> Option<PathBuf> {
        is_media_name(name).then(|| self.dir.join(name))
    }
}

/// Whether `name` has the shape of a stored image name: 32 hex digits and a known extension.
#[must_use]
pub fn is_media_name(name: &str) -> bool {
    let Some((stem, ext)) = name.split_once('.') else { return false };
    stem.len() == 32
        && stem.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && ImageKind::from_extension(ext).is_some()
}

#[async_trait]
impl MediaStore for LocalMedia {
    async fn put(&self, image: &Image) -> Result<String> {
        let path = self.path_of(&image.name).ok_or_else(|| Error::internal("generated an invalid media name"))?;
        let tmp = self.dir.join(format!(".{}.tmp", image.name));
        let bytes = image.bytes.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            // The new name is durable only once its directory entry is: sync the
            // directory before the upload is acknowledged.
            std::fs::File::open(path.parent().unwrap_or(Path::new(".")))?.sync_all()
        })
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)?;
        Ok(image.name.clone())
    }

    async fn delete(&self, stored: &str) -> Result<()> {
        let own_url = stored.strip_prefix(&self.base_url).and_then(|n| n.strip_prefix('/'));
        let Some(path) = local_name(stored).or(own_url).and_then(|name| self.path_of(name)) else {
            return Ok(());
        };
        match tokio::fs::remove_file(path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::internal(e)),
        }
    }

    fn public_url(&self, stored: &str) -> String {
        local_name(stored).map_or_else(|| stored.to_owned(), |name| format!("{}/{name}", self.base_url))
    }

    async fn get(&self, name: &str) -> Result<Option<StoredImage>> {
        // Only names this store makes: no listing, no path traversal.
        let Some(path) = self.path_of(name) else { return Ok(None) };
        let Some(kind) = name.rsplit_once('.').and_then(|(_, ext)| ImageKind::from_extension(ext)) else {
            return Ok(None);
        };
        match tokio::fs::read(path).await {
            Ok(bytes) => Ok(Some(StoredImage { kind, bytes })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::internal(e)),
        }
    }
}

impl DevConnect {
    /// The image served under `name` by this service's media store (local media:
    /// `/media/<name>`); `NotFound` if there is none.
    pub async fn media(&self, name: &str) -> Result<StoredImage> {
        self.inner.media.get(name).await?.ok_or(Error::NotFound("media"))
    }

    /// `value` with absolute media URLs, as the service hands it out.
    pub(crate) fn publish<T: PublicUrls>(&self, value: T) -> T {
        value.with_public_urls(&*self.inner.media)
    }

    /// Validates, re-encodes and stores an uploaded image; returns its URL. The header
    /// is checked first; the decode then waits for its share of the decode budget.
    pub(crate) async fn store_image(&self, upload: Upload) -> Result<String> {
        let limit = self.inner.settings.upload_limit;
        let header = probe_image(&upload, limit)?;
        let budget = &self.inner.decode_budget;
        let kib = u32::try_from(header.decode_cost.div_ceil(1024)).unwrap_or(u32::MAX);
        if kib > budget.kib {
            return Err(Error::validation("image", "is too large to decode; send a smaller image"));
        }
        let permit = budget.permits.acquire_many(kib).await.map_err(Error::internal)?;
        let image =
            tokio::task::spawn_blocking(move || process_image(&upload, limit)).await.map_err(Error::internal)??;
        drop(permit);
        self.inner.media.put(&image).await
    }

    /// Deletes an image that is no longer referenced; failures are only logged.
    pub(crate) async fn delete_image(&self, url: &str) {
        if let Err(err) = self.inner.media.delete(url).await {
            tracing::warn!(%err, "could not delete an unreferenced image");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Upload {
        let img = DynamicImage::new_rgb8(width, height);
        let mut out = Cursor::new(Vec::new());
        assert!(img.write_to(&mut out, ImageFormat::Png).is_ok());
        Upload(out.into_inner())
    }

    #[test]
    fn images_are_recognised_by_content_and_reencoded() {
        let image = process_image(&png(4, 3), DEFAULT_UPLOAD_LIMIT);
        let image = image.ok();
        assert_eq!(image.as_ref().map(|i| i.kind), Some(ImageKind::Png));
        assert!(image.as_ref().is_some_and(|i| is_media_name(&i.name)));
    }

    #[test]
    fn non_images_and_oversize_uploads_are_rejected() {
        let err = process_image(&Upload(b"GIF89a....".to_vec()), DEFAULT_UPLOAD_LIMIT).err();
        assert_eq!(err.map(|e| e.code()), Some("unsupported_media_type"));
        let err = process_image(&Upload(b"<svg></svg>".to_vec()), DEFAULT_UPLOAD_LIMIT).err();
        assert_eq!(err.map(|e| e.code()), Some("unsupported_media_type"));
        let err = process_image(&png(4, 3), 10).err();
        assert_eq!(err.map(|e| e.code()), Some("payload_too_large"));
    }

    #[test]
    fn images_beyond_the_pixel_limits_are_refused_from_their_header() {
        // A 3 × (MAX_IMAGE_SIDE + 1) PNG: tiny, refused by its width alone.
        let wide = png(MAX_IMAGE_SIDE + 1, 3);
        let err = probe_image(&wide, DEFAULT_UPLOAD_LIMIT).err();
        assert_eq!(err.map(|e| e.code()), Some("validation"));
        // 7000 × 7000 fits each side but not the pixel count; the header alone decides.
        let err = process_image(&crate::testkit::png_header(7000, 7000), DEFAULT_UPLOAD_LIMIT).err();
        assert!(matches!(err, Some(Error::Validation { reason, .. }) if reason.contains("megapixels")));
        let header = probe_image(&png(40, 30), DEFAULT_UPLOAD_LIMIT).ok();
        assert_eq!(header.map(|h| (h.width, h.height, h.decode_cost)), Some((40, 30, 40 * 30 * 4 * DECODE_COPIES)));
    }

    #[test]
    fn truncated_images_are_validation_errors() {
        let mut bytes = png(64, 64).0;
        bytes.truncate(40);
        let err = process_image(&Upload(bytes), DEFAULT_UPLOAD_LIMIT).err();
        assert_eq!(err.map(|e| e.code()), Some("validation"));
    }

    #[test]
    fn exif_and_gps_metadata_are_stripped() {
        let mut jpeg = Cursor::new(Vec::new());
        assert!(DynamicImage::new_rgb8(16, 16).write_to(&mut jpeg, ImageFormat::Jpeg).is_ok());
        let jpeg = jpeg.into_inner();
        // APP1 "Exif" segment: a big-endian TIFF header, one empty IFD, and a GPS-looking
        // payload, spliced in right after the SOI marker.
        let mut payload = b"Exif\0\0MM\0*\0\0\0\x08\0\0\0\0\0\0".to_vec();
        payload.extend_from_slice(b"GPSLatitude 48.8584 N, GPSLongitude 2.2945 E");
        let len = u16::try_from(payload.len() + 2).unwrap_or(u16::MAX).to_be_bytes();
        let mut with_exif = jpeg[..2].to_vec();
        with_exif.extend_from_slice(&[0xFF, 0xE1, len[0], len[1]]);
        with_exif.extend_from_slice(&payload);
        with_exif.extend_from_slice(&jpeg[2..]);
        let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        assert!(contains(&with_exif, b"GPSLatitude"));

        let image = process_image(&Upload(with_exif), DEFAULT_UPLOAD_LIMIT);
        let Ok(image) = image else { return assert!(image.is_ok()) };
        assert_eq!(image.kind, ImageKind::Jpeg);
        assert!(!contains(&image.bytes, b"Exif"));
        assert!(!contains(&image.bytes, b"GPSLatitude"));
        assert!(image::load_from_memory(&image.bytes).is_ok());
    }

    #[test]
    fn references_become_urls_under_the_public_base_and_absolute_ones_pass_through() {
        let dir = tempfile::tempdir();
        let Ok(dir) = dir else { return assert!(dir.is_ok()) };
        let media = LocalMedia::new(dir.path(), "https://api.example.com/media/");
        let Ok(media) = media else { return assert!(media.is_ok()) };
        let name = "0123456789abcdef0123456789abcdef.png";
        let url = format!("https://api.example.com/media/{name}");
        assert_eq!(media.public_url(name), url, "a stored name");
        assert_eq!(media.public_url(&format!("/media/{name}")), url, "a relative URL of an earlier version");
        let cloud = "https://res.cloudinary.com/demo/image/upload/v1/x.png";
        assert_eq!(media.public_url(cloud), cloud, "an absolute URL");
        assert_eq!(media.public_url("not-a-media-name"), "not-a-media-name");
    }

    #[tokio::test]
    async fn local_media_serves_what_it_stored_by_name_and_nothing_else() -> Result<()> {
        let dir = tempfile::tempdir().map_err(Error::internal)?;
        let media = LocalMedia::new(dir.path(), "http://localhost/media")?;
        let image = process_image(&crate::testkit::png(3, 2), DEFAULT_UPLOAD_LIMIT)?;
        let name = media.put(&image).await?;
        let served = media.get(&name).await?.ok_or_else(|| Error::internal("not served"))?;
        assert_eq!((served.kind, served.bytes), (image.kind, image.bytes));
        std::fs::write(dir.path().join("secret.txt"), b"x").map_err(Error::internal)?;
        for other in ["secret.txt", "../secret.txt", "0123456789abcdef0123456789abcdef.png", ""] {
            assert!(media.get(other).await?.is_none(), "{other}");
        }
        media.delete(&name).await?;
        assert!(media.get(&name).await?.is_none(), "deleted");
        Ok(())
    }

    #[test]
    fn media_names_cannot_traverse() {
        assert!(is_media_name("0123456789abcdef0123456789abcdef.png"));
        for bad in [
            "../etc/passwd",
            "0123456789abcdef0123456789abcdef.png/..",
            "x.png",
            "0123456789ABCDEF0123456789abcdef.png",
            "0123456789abcdef0123456789abcdef.svg",
        ] {
            assert!(!is_media_name(bad), "{bad}");
        }
    }
}
