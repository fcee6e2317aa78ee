//! Turning a stored upload into the files clients see: for an image, the
//! cleaned original and a small preview, with their sizes and blurhash; for
//! video and audio, the file as uploaded (container metadata blanked) with
//! its duration, size and frame rate, and no preview. Run by the worker for
//! asynchronous uploads (`POST /api/v2/media`) and inline for synchronous ones.

use bytes::Bytes;
use serde_json::json;
use stoa_db::media::{MediaState, MediaType, Processed};
use stoa_db::PgPool;
use stoa_media::{Dimensions, Limits, MediaError, MediaKind, ProcessedAv, ProcessedImage};
use stoa_storage::Storage;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Database(#[from] stoa_db::Error),
    #[error("storage: {0}")]
    Storage(#[from] stoa_storage::StorageError),
}

/// Where an attachment's files live.
pub fn file_key(media_id: i64, style: &str, content_type: &str) -> String {
    let extension = stoa_media::extension_for(content_type).unwrap_or("bin");
    format!("media_attachments/{media_id}/{style}.{extension}")
}

pub fn upload_key(media_id: i64) -> String {
    format!("uploads/{media_id}")
}

fn size_meta(size: &Dimensions) -> serde_json::Value {
    json!({
        "width": size.width,
        "height": size.height,
        "size": size.size_string(),
        "aspect": size.aspect(),
    })
}

/// Mastodon's `meta` of a video or audio file: `length` (`"0:01:28.65"`),
/// `duration` and, for video, `fps`, `size`, `width`, `height`, `aspect`;
/// the audio stream as `audio_encode`, `audio_bitrate` (which Mastodon uses
/// for the sample rate, `"44100 Hz"`) and `audio_channels`; and `original`
/// with `duration` and `bitrate`, and for video `width`, `height`, `size`,
/// `aspect` and `frame_rate` (`"30/1"`).
pub fn av_meta(av: &ProcessedAv) -> serde_json::Value {
    let mut meta = json!({
        "length": stoa_media::length_string(av.duration_secs),
        "duration": av.duration_secs,
    });
    let mut original = json!({
        "duration": av.duration_secs,
        "bitrate": av.bitrate,
    });
    if let Some(video) = &av.video {
        for object in [&mut meta, &mut original] {
            if let (Some(object), serde_json::Value::Object(size)) =
                (object.as_object_mut(), size_meta(&video.size))
            {
                object.extend(size);
            }
        }
        if let Some(rate) = video.frame_rate {
            original["frame_rate"] = json!(rate.to_string());
            // Whole frames per second; the fraction is in `original`.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let fps = rate.as_f64().round() as u64;
            meta["fps"] = json!(fps);
        }
    }
    if let Some(audio) = &av.audio {
        if let Some(codec) = audio.codec {
            meta["audio_encode"] = json!(codec);
        }
        if let Some(rate) = audio.sample_rate {
            meta["audio_bitrate"] = json!(format!("{rate} Hz"));
        }
        if let Some(channels) = audio.channels {
            meta["audio_channels"] = json!(match channels {
                1 => "mono".to_owned(),
                2 => "stereo".to_owned(),
                n => n.to_string(),
            });
        }
    }
    meta["original"] = original;
    meta
}

enum Output {
    Image(ProcessedImage),
    Av(ProcessedAv),
}

/// Images through the image pipeline; video and audio (by their magic
/// bytes) through the container parsers.
fn process_bytes(bytes: &[u8], limits: &Limits) -> Result<Output, MediaError> {
    match stoa_media::sniff(bytes) {
        Some((MediaKind::Video | MediaKind::Audio, _)) => {
            stoa_media::process_av(bytes, limits).map(Output::Av)
        }
        _ => stoa_media::process_image(bytes, limits).map(Output::Image),
    }
}

/// Process media `media_id` if it is still waiting. A file that cannot be
/// processed marks the attachment failed (with the reason for the uploader)
/// and leaves nothing in storage.
pub async fn process(
    pool: &PgPool,
    storage: &Storage,
    limits: &Limits,
    media_id: i64,
) -> Result<(), ProcessError> {
    let Some(media) = stoa_db::media::find(pool, media_id).await? else {
        return Ok(());
    };
    if media.state != MediaState::Processing {
        return Ok(());
    }
    let Some(upload_key) = media.upload_key.clone() else {
        stoa_db::media::mark_failed(pool, media_id, "The upload was lost").await?;
        return Ok(());
    };
    let Some((bytes, _)) = storage.get(&upload_key).await? else {
        stoa_db::media::mark_failed(pool, media_id, "The upload was lost").await?;
        return Ok(());
    };
    let limits_for_task = limits.clone();
    let processed =
        tokio::task::spawn_blocking(move || process_bytes(&bytes, &limits_for_task)).await;
    let output = match processed {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => {
            storage.delete(&upload_key).await?;
            stoa_db::media::mark_failed(pool, media_id, &e.to_string()).await?;
            return Ok(());
        }
        Err(join_error) => {
            storage.delete(&upload_key).await?;
            stoa_db::media::mark_failed(pool, media_id, "The file could not be processed").await?;
            tracing::error!(error = %join_error, media_id, "media processing panicked");
            return Ok(());
        }
    };
    match output {
        Output::Image(image) => store_image(pool, storage, media_id, image).await?,
        Output::Av(av) => store_av(pool, storage, media_id, av).await?,
    }
    storage.delete(&upload_key).await?;
    Ok(())
}

/// Video and audio: the one file, no preview, no blurhash.
async fn store_av(
    pool: &PgPool,
    storage: &Storage,
    media_id: i64,
    av: ProcessedAv,
) -> Result<(), ProcessError> {
    let meta = av_meta(&av);
    let kind = if av.kind == MediaKind::Audio {
        MediaType::Audio
    } else {
        MediaType::Video
    };
    let key = file_key(media_id, "original", av.content_type);
    let size = i64::try_from(av.original.len()).unwrap_or(i64::MAX);
    storage
        .put(&key, Bytes::from(av.original), av.content_type)
        .await?;
    stoa_db::media::mark_ready(
        pool,
        media_id,
        Processed {
            kind,
            file_key: &key,
            file_content_type: av.content_type,
            file_size: size,
            preview_key: None,
            preview_content_type: None,
            meta,
            blurhash: None,
        },
    )
    .await?;
    Ok(())
}

async fn store_image(
    pool: &PgPool,
    storage: &Storage,
    media_id: i64,
    image: ProcessedImage,
) -> Result<(), ProcessError> {
    // Same keys as `file_key`: media_attachments/{id}/original|small.{ext}.
    let prefix = format!("media_attachments/{media_id}");
    let (files, processed) = store_processed(storage, &prefix, image).await?;
    stoa_db::media::mark_ready(
        pool,
        media_id,
        Processed {
            kind: MediaType::Image,
            file_key: &files[0].0,
            file_content_type: processed.original_content_type,
            file_size: files[0].1,
            preview_key: Some(&files[1].0),
            preview_content_type: Some(processed.preview_content_type),
            meta: processed.meta,
            blurhash: Some(&processed.blurhash),
        },
    )
    .await?;
    Ok(())
}

/// How remote media are cached.
#[derive(Debug, Clone)]
pub struct RemoteCache {
    pub enabled: bool,
    pub retention: std::time::Duration,
    pub budget_bytes: u64,
}

/// Store an original and its preview as `{prefix}/original.{ext}` and
/// `{prefix}/small.{ext}`; returns their (key, size) pairs, original first.
async fn store_processed(
    storage: &Storage,
    prefix: &str,
    image: ProcessedImage,
) -> Result<(Vec<(String, i64)>, ProcessedMeta), ProcessError> {
    let original_key = format!(
        "{prefix}/original.{}",
        stoa_media::extension_for(image.original_content_type).unwrap_or("bin")
    );
    let preview_key = format!(
        "{prefix}/small.{}",
        stoa_media::extension_for(image.preview_content_type).unwrap_or("bin")
    );
    let sizes = (
        i64::try_from(image.original.len()).unwrap_or(i64::MAX),
        i64::try_from(image.preview.len()).unwrap_or(i64::MAX),
    );
    storage
        .put(
            &original_key,
            Bytes::from(image.original),
            image.original_content_type,
        )
        .await?;
    storage
        .put(
            &preview_key,
            Bytes::from(image.preview),
            image.preview_content_type,
        )
        .await?;
    let meta = ProcessedMeta {
        original_content_type: image.original_content_type,
        preview_content_type: image.preview_content_type,
        animated: image.animated,
        meta: json!({
            "original": size_meta(&image.original_size),
            "small": size_meta(&image.preview_size),
        }),
        blurhash: image.blurhash,
    };
    Ok((vec![(original_key, sizes.0), (preview_key, sizes.1)], meta))
}

struct ProcessedMeta {
    original_content_type: &'static str,
    preview_content_type: &'static str,
    animated: bool,
    meta: serde_json::Value,
    blurhash: String,
}

/// Fetch (through the outbound client's checks) and process a remote image.
async fn fetch_image(
    outbound: &stoa_outbound::Client,
    url: &str,
    limits: &Limits,
) -> Option<ProcessedImage> {
    let url = url::Url::parse(url).ok()?;
    let fetched = match outbound.get_bytes(&url, limits.max_bytes).await {
        Ok(fetched) => fetched,
        Err(e) => {
            tracing::info!(error = %e, %url, "remote media unavailable");
            return None;
        }
    };
    let limits = limits.clone();
    match tokio::task::spawn_blocking(move || stoa_media::process_image(&fetched.body, &limits))
        .await
    {
        Ok(Ok(image)) => Some(image),
        Ok(Err(e)) => {
            tracing::info!(error = %e, %url, "remote media refused");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, %url, "remote media processing panicked");
            None
        }
    }
}

/// Fetch, clean and cache a remote attachment; it is then served from here.
/// Whether a domain block forbids fetching media from `url`'s host.
async fn rejects_media_of(pool: &PgPool, url: &str) -> Result<bool, ProcessError> {
    let Some(host) = stoa_db::federation::host_of(url) else {
        return Ok(false);
    };
    Ok(stoa_db::domains::rejects_media(pool, &host).await?)
}

pub async fn cache_remote_media(
    pool: &PgPool,
    storage: &Storage,
    outbound: &stoa_outbound::Client,
    limits: &Limits,
    media_id: i64,
) -> Result<(), ProcessError> {
    let Some(media) = stoa_db::media::find(pool, media_id).await? else {
        return Ok(());
    };
    let (Some(remote_url), None) = (media.remote_url.as_deref(), media.file_key.as_deref()) else {
        return Ok(());
    };
    if media.kind != MediaType::Image {
        return Ok(()); // Only images are processed for now; others stay remote.
    }
    if rejects_media_of(pool, remote_url).await? {
        return Ok(()); // Domain policy: reject_media (or suspended); stays remote.
    }
    let Some(image) = fetch_image(outbound, remote_url, limits).await else {
        return Ok(());
    };
    let version = stoa_db::media::next_id(pool).await?;
    let prefix = format!("cache/media_attachments/{media_id}/{version}");
    let (files, processed) = store_processed(storage, &prefix, image).await?;
    let size = files.iter().map(|(_, bytes)| bytes).sum();
    stoa_db::media::set_cached_files(
        pool,
        media_id,
        Processed {
            kind: MediaType::Image,
            file_key: &files[0].0,
            file_content_type: processed.original_content_type,
            file_size: size,
            preview_key: Some(&files[1].0),
            preview_content_type: Some(processed.preview_content_type),
            meta: processed.meta,
            blurhash: Some(&processed.blurhash),
        },
    )
    .await?;
    let records: Vec<(&str, i64)> = files.iter().map(|(k, b)| (k.as_str(), *b)).collect();
    stoa_db::media::record_cached(
        pool,
        stoa_db::media::CachePurpose::Media(media_id),
        &records,
    )
    .await?;
    Ok(())
}

/// Fetch, clean and cache a remote account's avatar or header.
pub async fn cache_remote_picture(
    pool: &PgPool,
    storage: &Storage,
    outbound: &stoa_outbound::Client,
    limits: &Limits,
    account_id: i64,
    header: bool,
) -> Result<(), ProcessError> {
    let Some(account) = stoa_db::accounts::find(pool, account_id).await? else {
        return Ok(());
    };
    let (remote_url, cached) = if header {
        (
            account.header_remote_url.as_deref(),
            account.header_key.is_some(),
        )
    } else {
        (
            account.avatar_remote_url.as_deref(),
            account.avatar_key.is_some(),
        )
    };
    let (Some(remote_url), false) = (remote_url, cached) else {
        return Ok(());
    };
    if rejects_media_of(pool, remote_url).await? {
        return Ok(()); // Domain policy: reject_media (or suspended).
    }
    let pixels = if header { 1500 * 500 } else { 400 * 400 };
    let limits = Limits {
        max_original_pixels: pixels,
        preview_pixels: pixels,
        ..limits.clone()
    };
    let Some(image) = fetch_image(outbound, remote_url, &limits).await else {
        return Ok(());
    };
    let version = stoa_db::media::next_id(pool).await?;
    let kind_name = if header { "headers" } else { "avatars" };
    let prefix = format!("cache/accounts/{kind_name}/{account_id}/{version}");
    let (files, processed) = store_processed(storage, &prefix, image).await?;
    let static_key = if processed.animated {
        &files[1].0
    } else {
        &files[0].0
    };
    let kind = if header {
        stoa_db::accounts::ProfileImageKind::Header
    } else {
        stoa_db::accounts::ProfileImageKind::Avatar
    };
    stoa_db::accounts::set_profile_image(
        pool,
        account_id,
        kind,
        Some(stoa_db::accounts::ProfileImage {
            key: &files[0].0,
            static_key,
            content_type: processed.original_content_type,
        }),
    )
    .await?;
    let purpose = if header {
        stoa_db::media::CachePurpose::Header(account_id)
    } else {
        stoa_db::media::CachePurpose::Avatar(account_id)
    };
    let records: Vec<(&str, i64)> = files.iter().map(|(k, b)| (k.as_str(), *b)).collect();
    stoa_db::media::record_cached(pool, purpose, &records).await?;
    Ok(())
}

/// What a prune removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PruneReport {
    pub files: usize,
    pub bytes: i64,
}

/// Remove cached remote media older than the retention, then the oldest
/// until the cache fits its budget. The owners fall back to their origin
/// URLs and are fetched again on demand.
pub async fn prune(
    pool: &PgPool,
    storage: &Storage,
    cache: &RemoteCache,
) -> Result<PruneReport, ProcessError> {
    let retention = i64::try_from(cache.retention.as_secs()).unwrap_or(i64::MAX);
    let budget = i64::try_from(cache.budget_bytes).unwrap_or(i64::MAX);
    let mut report = PruneReport::default();
    let mut owners: Vec<stoa_db::media::CachePurpose> = Vec::new();
    for eviction in stoa_db::media::evictions(pool, retention, budget).await? {
        if let Some(owner) = eviction.owner() {
            if !owners.contains(&owner) {
                owners.push(owner);
            }
        }
    }
    for owner in owners {
        let mut tx = pool.begin().await.map_err(stoa_db::Error::from)?;
        let (keys, bytes) = stoa_db::media::forget_cached(&mut tx, owner).await?;
        tx.commit().await.map_err(stoa_db::Error::from)?;
        for key in &keys {
            storage.delete(key).await?;
        }
        report.files += keys.len();
        report.bytes += bytes;
    }
    Ok(report)
}
