//! The filesystem backend: `{root}/{key}`, content type in a hidden
//! `.{file name}.meta` sidecar, atomic writes through a temporary file and a
//! rename. Keys are validated by the caller ([`crate::Storage`]).

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use crate::{
    content_type_from_extension, validate_content_type, ListPage, ObjectInfo, StorageError,
    MAX_KEY_LEN,
};

/// Distinguishes temporary files written by this process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

pub(crate) struct FsBackend {
    root: Arc<PathBuf>,
    base_url: String,
}

impl FsBackend {
    pub(crate) async fn new(root: PathBuf, base_url: String) -> Result<FsBackend, StorageError> {
        let root = blocking(move || {
            std::fs::create_dir_all(&root).map_err(|e| io_error("create", &root, e))?;
            std::fs::canonicalize(&root).map_err(|e| io_error("resolve", &root, e))
        })
        .await?;
        Ok(FsBackend {
            root: Arc::new(root),
            base_url,
        })
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    pub(crate) fn public_url(&self, key: &str) -> String {
        format!("{}/{key}", self.base_url)
    }

    pub(crate) async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let path = self.path(key);
        let meta = format!("{content_type}\n");
        blocking(move || {
            // A concurrent delete may remove the directory just created for
            // us while it prunes empty parents; then create it again.
            let mut attempts = 0;
            loop {
                match write_object(&path, &bytes, meta.as_bytes()) {
                    Err(e) if e.kind() == io::ErrorKind::NotFound && attempts < 3 => {
                        attempts += 1;
                    }
                    result => return result.map_err(|e| io_error("write", &path, e)),
                }
            }
        })
        .await
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<(Bytes, String)>, StorageError> {
        let path = self.path(key);
        blocking(move || {
            let data = match std::fs::read(&path) {
                Ok(data) => data,
                Err(e) if is_missing(&e) => return Ok(None),
                Err(e) => return Err(io_error("read", &path, e)),
            };
            let content_type = read_content_type(&path)?;
            Ok(Some((Bytes::from(data), content_type)))
        })
        .await
    }

    pub(crate) async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StorageError> {
        let path = self.path(key);
        blocking(move || {
            let metadata = match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => m,
                Ok(_) => return Ok(None),
                Err(e) if is_missing(&e) => return Ok(None),
                Err(e) => return Err(io_error("inspect", &path, e)),
            };
            Ok(Some(ObjectInfo {
                size: metadata.len(),
                content_type: read_content_type(&path)?,
            }))
        })
        .await
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = self.path(key);
        let root = Arc::clone(&self.root);
        blocking(move || {
            for file in [path.clone(), sidecar_path(&path)] {
                match std::fs::remove_file(&file) {
                    Ok(()) => {}
                    Err(e) if is_missing(&e) => {}
                    Err(e) => return Err(io_error("delete", &file, e)),
                }
            }
            // Best effort: remove directories left empty, never the root.
            let mut dir = path.parent();
            while let Some(d) = dir {
                if d == root.as_path() || !d.starts_with(root.as_path()) {
                    break;
                }
                if std::fs::remove_dir(d).is_err() {
                    break;
                }
                dir = d.parent();
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn list_page(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, StorageError> {
        let root = Arc::clone(&self.root);
        let prefix = prefix.to_owned();
        let after = cursor.map(str::to_owned);
        blocking(move || {
            // Start in the deepest directory the prefix names in full.
            let start = &prefix[..prefix.rfind('/').map_or(0, |i| i + 1)];
            let mut walk = Walk {
                root: &root,
                prefix: &prefix,
                after: after.as_deref(),
                limit,
                keys: Vec::new(),
            };
            walk.dir(start)?;
            let cursor = if walk.keys.len() >= limit {
                walk.keys.last().cloned()
            } else {
                None
            };
            Ok(ListPage {
                keys: walk.keys,
                cursor,
            })
        })
        .await
    }

    /// The root exists and a file can be written in it.
    pub(crate) async fn check(&self) -> Result<(), StorageError> {
        let root = Arc::clone(&self.root);
        blocking(move || {
            std::fs::create_dir_all(root.as_path()).map_err(|e| io_error("create", &root, e))?;
            let probe = temp_path(&root, "check");
            std::fs::write(&probe, b"ok").map_err(|e| io_error("write", &probe, e))?;
            std::fs::remove_file(&probe).map_err(|e| io_error("delete", &probe, e))
        })
        .await
    }
}

/// A depth-first walk that yields keys in ascending byte order: siblings are
/// visited sorted by name, with `/` appended to directory names, which is
/// exactly the order of the full keys (no name contains `/`, and `/` sorts
/// after `.`, `-` and digits as it does inside the keys).
struct Walk<'a> {
    root: &'a Path,
    prefix: &'a str,
    after: Option<&'a str>,
    limit: usize,
    keys: Vec<String>,
}

impl Walk<'_> {
    /// Visit `rel` ("" or a relative path ending in `/`).
    fn dir(&mut self, rel: &str) -> Result<(), StorageError> {
        let dir = self.root.join(rel);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if is_missing(&e) => return Ok(()),
            Err(e) => return Err(io_error("list", &dir, e)),
        };
        let mut children = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error("list", &dir, e))?;
            let Ok(name) = entry.file_name().into_string() else {
                tracing::warn!(dir = %dir.display(), "storage: skipping a file name that is not UTF-8");
                continue;
            };
            // Sidecars, temporary files and anything else hidden.
            if name.starts_with('.') {
                continue;
            }
            // Follows symbolic links, so a root assembled from links works.
            let is_dir = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
            let sort_key = if is_dir { format!("{name}/") } else { name };
            children.push((sort_key, is_dir));
        }
        children.sort_unstable();
        for (name, is_dir) in children {
            let full = format!("{rel}{name}");
            if is_dir {
                // Only directories that can hold matching keys past the cursor.
                let on_prefix = full.starts_with(self.prefix) || self.prefix.starts_with(&full);
                let all_before_cursor = self
                    .after
                    .is_some_and(|after| full.as_str() < after && !after.starts_with(&full));
                if on_prefix && !all_before_cursor && full.len() <= MAX_KEY_LEN {
                    self.dir(&full)?;
                }
            } else if full.starts_with(self.prefix)
                && self.after.is_none_or(|after| full.as_str() > after)
            {
                self.keys.push(full);
            }
            if self.keys.len() >= self.limit {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// Write data and sidecar to temporary files, then rename them into place,
/// sidecar first, so that a visible object always has its content type.
fn write_object(path: &Path, data: &[u8], meta: &[u8]) -> io::Result<()> {
    let dir = path.parent().ok_or(io::ErrorKind::InvalidInput)?;
    std::fs::create_dir_all(dir)?;
    let data_tmp = write_temp(path, data)?;
    let meta_tmp = match write_temp(path, meta) {
        Ok(tmp) => tmp,
        Err(e) => {
            let _ = std::fs::remove_file(&data_tmp);
            return Err(e);
        }
    };
    let renamed = std::fs::rename(&meta_tmp, sidecar_path(path))
        .and_then(|()| std::fs::rename(&data_tmp, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&meta_tmp);
        let _ = std::fs::remove_file(&data_tmp);
    }
    renamed
}

/// A new hidden file beside `path` holding `data`, synced to disk.
fn write_temp(path: &Path, data: &[u8]) -> io::Result<PathBuf> {
    let dir = path.parent().ok_or(io::ErrorKind::InvalidInput)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or(io::ErrorKind::InvalidInput)?;
    let tmp = temp_path(dir, name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    if let Err(e) = file.write_all(data).and_then(|()| file.sync_all()) {
        drop(file);
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

fn temp_path(dir: &Path, name: &str) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

fn sidecar_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.meta"))
}

/// The sidecar's content type, else one guessed from the extension.
fn read_content_type(path: &Path) -> Result<String, StorageError> {
    let sidecar = sidecar_path(path);
    match std::fs::read_to_string(&sidecar) {
        Ok(text) => {
            let text = text.trim();
            if validate_content_type(text).is_ok() {
                return Ok(text.to_owned());
            }
        }
        Err(e) if is_missing(&e) || e.kind() == io::ErrorKind::InvalidData => {}
        Err(e) => return Err(io_error("read", &sidecar, e)),
    }
    let name = path.to_string_lossy();
    Ok(content_type_from_extension(&name).to_owned())
}

/// Errors meaning "no such object": the path or a parent is missing, or is
/// the wrong kind of file.
fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::IsADirectory
    )
}

fn io_error(op: &'static str, path: &Path, source: io::Error) -> StorageError {
    StorageError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

async fn blocking<T, F>(f: F) -> Result<T, StorageError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StorageError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
}
