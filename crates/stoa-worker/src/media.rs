//! Turning a stored upload into the files clients see: the cleaned original
//! and a small preview, with their sizes and blurhash. Run by the worker for
//! asynchronous uploads (`POST /api/v2/media`) and inline for synchronous ones.

use bytes::Bytes;
use serde_json::json;
use stoa_db::media::{MediaState, MediaType, Processed};
use stoa_db::PgPool;
use stoa_media::{Dimensions, Limits, ProcessedImage};
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
        tokio::task::spawn_blocking(move || stoa_media::process_image(&bytes, &limits_for_task))
            .await;
    let image: ProcessedImage = match processed {
        Ok(Ok(image)) => image,
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
    let original_key = file_key(media_id, "original", image.original_content_type);
    let preview_key = file_key(media_id, "small", image.preview_content_type);
    let original_size = i64::try_from(image.original.len()).unwrap_or(i64::MAX);
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
    stoa_db::media::mark_ready(
        pool,
        media_id,
        Processed {
            kind: MediaType::Image,
            file_key: &original_key,
            file_content_type: image.original_content_type,
            file_size: original_size,
            preview_key: &preview_key,
            preview_content_type: image.preview_content_type,
            meta: json!({
                "original": size_meta(&image.original_size),
                "small": size_meta(&image.preview_size),
            }),
            blurhash: &image.blurhash,
        },
    )
    .await?;
    storage.delete(&upload_key).await?;
    Ok(())
}
