//! The same table of behaviours against both backends: the filesystem in a
//! temporary directory, and S3 against a real S3-compatible server process
//! (`moto_server`, installed into `.venv` by `scripts/test.sh`; the path can
//! be given as `STOA_TEST_S3_SERVER`). Then migration both ways.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt as _;
use stoa_storage::{migrate, Storage, StorageConfig, StorageError};

const INSTANCE_URL: &str = "https://social.example";
const ACCESS_KEY: &str = "stoa-test-access";
const SECRET_KEY: &str = "stoa-test-secret";

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(name: &str) -> String {
    format!(
        "{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(unique(&format!("stoa-storage-{name}")));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `moto_server` process on a free loopback port, killed when dropped.
struct S3Server {
    endpoint: String,
    _child: tokio::process::Child,
    _dir: TempDir,
}

fn s3_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("STOA_TEST_S3_SERVER") {
        return PathBuf::from(path);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server")
}

impl S3Server {
    async fn start() -> S3Server {
        S3Server::start_with(false).await
    }

    /// `tls`: serve HTTPS with a self-signed certificate.
    async fn start_with(tls: bool) -> S3Server {
        let binary = s3_server_binary();
        assert!(
            binary.exists(),
            "the S3-compatible test server {} is not installed: run scripts/test.sh \
             (it installs moto[server] into .venv), or point STOA_TEST_S3_SERVER at a moto_server",
            binary.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = TempDir::new("moto");
        let log_path = dir.0.join("moto.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut command = tokio::process::Command::new(&binary);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        if tls {
            command.arg("--ssl");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{} exited with {status}:\n{}", binary.display(), log());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not listen on port {port} within 60 s:\n{}",
                binary.display(),
                log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        S3Server {
            endpoint: format!("{}://127.0.0.1:{port}", if tls { "https" } else { "http" }),
            _child: child,
            _dir: dir,
        }
    }

    fn config(&self, bucket: &str) -> StorageConfig {
        StorageConfig::S3 {
            bucket: bucket.to_owned(),
            region: "us-east-1".to_owned(),
            endpoint: Some(self.endpoint.clone()),
            force_path_style: true,
            access_key_id: Some(ACCESS_KEY.to_owned()),
            secret_access_key: Some(SECRET_KEY.to_owned()),
            public_base_url: None,
            acl_public_read: true,
        }
    }

    /// A storage on a new, empty bucket.
    async fn storage(&self, bucket: &str) -> Storage {
        let storage = Storage::new(&self.config(bucket), INSTANCE_URL)
            .await
            .unwrap();
        storage.create_bucket().await.unwrap();
        storage.check().await.unwrap();
        storage
    }
}

async fn fs_storage(root: &Path) -> Storage {
    let config = StorageConfig::Filesystem {
        root: root.to_path_buf(),
        public_base_url: None,
    };
    Storage::new(&config, INSTANCE_URL).await.unwrap()
}

fn bytes_of(seed: u64, len: usize) -> Bytes {
    // A cheap deterministic byte pattern; differs per seed.
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

const INVALID_KEYS: &[&str] = &[
    "",
    "../x",
    "a/../../etc/passwd",
    "/etc/passwd",
    "a//b",
    "a/",
    "Upper.jpg",
    ".x.meta",
    "a/.b",
    "a b",
    "a\\..\\b",
];

/// The behaviours both backends must share. `fetch_public` checks the
/// object behind a public URL holds `bytes` with `content_type`.
async fn run_table(storage: &Storage, root: Option<&Path>) {
    let name = storage.backend_name();
    let key = "media_attachments/files/117/658/251/original/3f2a9c.jpg";

    // Round trip: bytes and content type.
    assert_eq!(
        storage.get(key).await.unwrap(),
        None,
        "[{name}] missing get"
    );
    assert_eq!(
        storage.head(key).await.unwrap(),
        None,
        "[{name}] missing head"
    );
    let jpeg = bytes_of(1, 5000);
    storage.put(key, jpeg.clone(), "image/jpeg").await.unwrap();
    assert_eq!(
        storage.get(key).await.unwrap(),
        Some((jpeg.clone(), "image/jpeg".to_owned())),
        "[{name}] round trip"
    );
    let info = storage.head(key).await.unwrap().unwrap();
    assert_eq!(
        (info.size, info.content_type.as_str()),
        (5000, "image/jpeg"),
        "[{name}] head"
    );

    // Replacing, an empty object, a larger one, a content type with a
    // parameter.
    let png = bytes_of(2, 777);
    storage.put(key, png.clone(), "image/png").await.unwrap();
    assert_eq!(
        storage.get(key).await.unwrap(),
        Some((png, "image/png".to_owned())),
        "[{name}] replace"
    );
    storage
        .put("misc/empty.txt", Bytes::new(), "text/plain; charset=utf-8")
        .await
        .unwrap();
    assert_eq!(
        storage.get("misc/empty.txt").await.unwrap(),
        Some((Bytes::new(), "text/plain; charset=utf-8".to_owned())),
        "[{name}] empty object"
    );
    let big = bytes_of(3, 3 * 1024 * 1024 + 17);
    storage
        .put("misc/big.mp4", big.clone(), "video/mp4")
        .await
        .unwrap();
    assert_eq!(
        storage.get("misc/big.mp4").await.unwrap(),
        Some((big, "video/mp4".to_owned())),
        "[{name}] 3 MiB object"
    );

    // Delete is idempotent.
    storage.delete("misc/big.mp4").await.unwrap();
    assert_eq!(
        storage.get("misc/big.mp4").await.unwrap(),
        None,
        "[{name}] deleted"
    );
    storage.delete("misc/big.mp4").await.unwrap();
    storage.delete("never/there.jpg").await.unwrap();

    // Invalid keys are rejected by every method, before touching anything.
    for bad in INVALID_KEYS {
        let is_invalid =
            |r: Result<(), StorageError>| matches!(r, Err(StorageError::InvalidKey { .. }));
        assert!(
            is_invalid(
                storage
                    .put(bad, Bytes::from_static(b"x"), "text/plain")
                    .await
            ),
            "[{name}] put {bad:?}"
        );
        assert!(
            is_invalid(storage.get(bad).await.map(drop)),
            "[{name}] get {bad:?}"
        );
        assert!(
            is_invalid(storage.head(bad).await.map(drop)),
            "[{name}] head {bad:?}"
        );
        assert!(
            is_invalid(storage.delete(bad).await),
            "[{name}] delete {bad:?}"
        );
        assert!(
            is_invalid(storage.public_url(bad).map(drop)),
            "[{name}] url {bad:?}"
        );
        assert_eq!(storage.local_file_path(bad), None, "[{name}] path {bad:?}");
    }
    for bad_prefix in ["../", "/etc", "A/", "a//"] {
        assert!(
            storage.list(bad_prefix).await.is_err(),
            "[{name}] list {bad_prefix:?}"
        );
    }
    for bad_type in ["", "image/jpeg\r\nx-amz-acl: public-read-write", "jpeg"] {
        assert!(
            matches!(
                storage.put("misc/a.jpg", Bytes::new(), bad_type).await,
                Err(StorageError::InvalidContentType(_))
            ),
            "[{name}] content type {bad_type:?}"
        );
    }
    assert_eq!(storage.get("misc/a.jpg").await.unwrap(), None);

    // Listing: byte order, string prefixes, several pages.
    let mut expected = Vec::new();
    for i in 0..23 {
        let key = match i % 3 {
            0 => format!("list/a/{i:03}.bin"),
            1 => format!("list/a/sub/{i:03}.bin"),
            _ => format!("list/a.{i:03}.bin"),
        };
        storage
            .put(&key, bytes_of(i, 10), "application/octet-stream")
            .await
            .unwrap();
        expected.push(key);
    }
    storage
        .put(
            "list-other/x.bin",
            bytes_of(99, 1),
            "application/octet-stream",
        )
        .await
        .unwrap();
    expected.sort();
    let paged = storage.clone().with_list_page_size(4);
    assert_eq!(
        paged.list("list/").await.unwrap(),
        expected,
        "[{name}] list"
    );
    assert_eq!(
        storage.list("list/").await.unwrap(),
        expected,
        "[{name}] list, one page"
    );
    let under_a: Vec<String> = expected
        .iter()
        .filter(|k| k.starts_with("list/a/"))
        .cloned()
        .collect();
    assert_eq!(
        paged.list("list/a/").await.unwrap(),
        under_a,
        "[{name}] list dir"
    );
    let mid: Vec<String> = expected
        .iter()
        .filter(|k| k.starts_with("list/a/su"))
        .cloned()
        .collect();
    assert_eq!(mid.len(), 8);
    assert_eq!(
        paged.list("list/a/su").await.unwrap(),
        mid,
        "[{name}] list mid-name"
    );
    assert_eq!(
        paged.list("list").await.unwrap().len(),
        24,
        "[{name}] list string prefix"
    );
    assert!(
        paged.list("nothing/").await.unwrap().is_empty(),
        "[{name}] list none"
    );
    let all = storage.list("").await.unwrap();
    assert!(
        all.contains(&"misc/empty.txt".to_owned()),
        "[{name}] list all"
    );
    assert!(all.iter().all(|k| stoa_storage::validate_key(k).is_ok()));
    // Page by page: never more than the page size, and the cursor ends.
    let (mut pages, mut seen, mut cursor) = (0, Vec::new(), None);
    loop {
        let page = paged.list_page("list/", cursor.as_deref()).await.unwrap();
        assert!(page.keys.len() <= 4);
        seen.extend(page.keys);
        pages += 1;
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, expected, "[{name}] pages");
    assert!(pages >= 6, "[{name}] {pages} pages");

    // Concurrent writes and deletes in one directory.
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let storage = storage.clone();
            tokio::spawn(async move {
                let key = format!("race/d/{i}.bin");
                for round in 0..4 {
                    storage
                        .put(&key, bytes_of(round, 64), "application/octet-stream")
                        .await
                        .unwrap();
                    storage.delete(&key).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert!(
        storage.list("race/").await.unwrap().is_empty(),
        "[{name}] race"
    );

    if let Some(root) = root {
        // Filesystem specifics: the object is a plain file under the root,
        // hidden files are not listed, emptied directories are removed.
        let path = storage.local_file_path(key).unwrap();
        assert_eq!(path, root.join(key));
        assert_eq!(std::fs::read(&path).unwrap(), bytes_of(2, 777));
        assert!(!root.join("race").exists(), "[{name}] empty dirs pruned");
        storage.delete(key).await.unwrap();
        assert!(
            !root.join("media_attachments").exists(),
            "[{name}] pruned to root"
        );
        assert!(root.is_dir());
        let leftovers: Vec<_> = std::fs::read_dir(root.join("misc"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        let mut leftovers = leftovers;
        leftovers.sort();
        assert_eq!(
            leftovers,
            [".empty.txt.meta", "empty.txt"],
            "[{name}] no temp files"
        );
        // Nothing was ever written outside the root.
        let outside: Vec<_> = std::fs::read_dir(root.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n == "x" || n == "etc")
            .collect();
        assert!(outside.is_empty());
    } else {
        assert_eq!(storage.local_file_path(key), None);
    }
}

#[tokio::test]
async fn filesystem_backend() {
    let dir = TempDir::new("fs");
    let root = dir.0.join("media");
    let storage = fs_storage(&root).await;
    storage.check().await.unwrap();
    let root = root.canonicalize().unwrap();
    run_table(&storage, Some(&root)).await;

    // Public URLs: served by Stoa under /system/ unless a base is given.
    assert_eq!(
        storage.public_url("a/b.png").unwrap(),
        "https://social.example/system/a/b.png"
    );
    let cdn = Storage::new(
        &StorageConfig::Filesystem {
            root: root.clone(),
            public_base_url: Some("https://files.social.example/".to_owned()),
        },
        INSTANCE_URL,
    )
    .await
    .unwrap();
    assert_eq!(
        cdn.public_url("a/b.png").unwrap(),
        "https://files.social.example/a/b.png"
    );

    // A file put there by hand, without a sidecar: type from the extension.
    std::fs::create_dir_all(root.join("byhand")).unwrap();
    std::fs::write(root.join("byhand/pic.webp"), b"RIFF").unwrap();
    assert_eq!(
        storage.get("byhand/pic.webp").await.unwrap(),
        Some((Bytes::from_static(b"RIFF"), "image/webp".to_owned()))
    );
}

#[tokio::test]
async fn s3_backend() {
    let server = S3Server::start().await;
    let storage = server.storage("stoa-table").await;
    run_table(&storage, None).await;

    // Public URL, path style: {endpoint}/{bucket}/{key}; fetched anonymously
    // over plain HTTP it is the object, with its type and cache header.
    let key = "media_attachments/files/000/000/001/original/ab12.png";
    let png = bytes_of(7, 2048);
    storage.put(key, png.clone(), "image/png").await.unwrap();
    let url = storage.public_url(key).unwrap();
    assert_eq!(url, format!("{}/stoa-table/{key}", server.endpoint));
    let http = reqwest::Client::new();
    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(response.bytes().await.unwrap(), png);
    // The object carries the public-read ACL (moto does not enforce ACLs,
    // so read it back: the AllUsers group has READ).
    let acl = http
        .get(format!("{url}?acl"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        acl.contains("http://acs.amazonaws.com/groups/global/AllUsers") && acl.contains("READ"),
        "{acl}"
    );
    storage.delete(key).await.unwrap();
    assert_eq!(http.get(&url).send().await.unwrap().status(), 404);

    // A configured public base URL (CDN alias) wins.
    let StorageConfig::S3 {
        bucket,
        region,
        endpoint,
        access_key_id,
        secret_access_key,
        ..
    } = server.config("stoa-table")
    else {
        unreachable!()
    };
    let cdn = Storage::new(
        &StorageConfig::S3 {
            bucket,
            region,
            endpoint,
            force_path_style: false,
            access_key_id,
            secret_access_key,
            public_base_url: Some("https://cdn.social.example".to_owned()),
            acl_public_read: false,
        },
        INSTANCE_URL,
    )
    .await
    .unwrap();
    assert_eq!(
        cdn.public_url(key).unwrap(),
        format!("https://cdn.social.example/{key}")
    );

    // Listing past S3's 1000-key page with the default page size.
    let big = server.storage("stoa-many").await;
    let started = Instant::now();
    futures_util::stream::iter(0..1100)
        .map(|i| {
            let big = big.clone();
            async move {
                big.put(
                    &format!("many/{i:05}.txt"),
                    Bytes::from_static(b"x"),
                    "text/plain",
                )
                .await
            }
        })
        .buffer_unordered(16)
        .for_each(|result| async move { result.unwrap() })
        .await;
    let listed = big.list("many/").await.unwrap();
    assert_eq!(listed.len(), 1100);
    assert_eq!(listed[0], "many/00000.txt");
    assert_eq!(listed[1099], "many/01099.txt");
    eprintln!("1100 objects put and listed in {:?}", started.elapsed());

    // A missing bucket is an error, not an empty answer.
    let missing = Storage::new(&server.config("stoa-missing"), INSTANCE_URL)
        .await
        .unwrap();
    assert!(missing.get("a/b.jpg").await.is_err());
    assert!(missing.check().await.is_err());
}

/// HTTPS goes through rustls (with ring) and verifies the certificate: a
/// self-signed one is refused.
#[tokio::test]
async fn s3_over_https_checks_certificates() {
    let server = S3Server::start_with(true).await;
    let storage = Storage::new(&server.config("stoa-tls"), INSTANCE_URL)
        .await
        .unwrap();
    let error = storage.check().await.unwrap_err().to_string();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
}

#[tokio::test]
async fn s3_without_credentials_is_a_config_error() {
    let config = StorageConfig::S3 {
        bucket: "media".to_owned(),
        region: "us-east-1".to_owned(),
        endpoint: Some("http://127.0.0.1:9".to_owned()),
        force_path_style: true,
        access_key_id: None,
        secret_access_key: None,
        public_base_url: None,
        acl_public_read: false,
    };
    let has_env_keys = std::env::var_os("AWS_ACCESS_KEY_ID").is_some()
        && std::env::var_os("AWS_SECRET_ACCESS_KEY").is_some();
    let result = Storage::new(&config, INSTANCE_URL).await;
    if has_env_keys {
        result.unwrap();
    } else {
        assert!(matches!(result, Err(StorageError::Config(_))), "{result:?}");
    }
}

#[tokio::test]
async fn migrate_between_backends() {
    let server = S3Server::start().await;
    let dir = TempDir::new("migrate");
    let fs_a = fs_storage(&dir.0.join("a")).await;
    let mut objects = Vec::new();
    for i in 0..30u64 {
        let (key, content_type) = match i % 3 {
            0 => (
                format!("media_attachments/files/000/000/{i:03}/original/f{i}.jpg"),
                "image/jpeg",
            ),
            1 => (
                format!("media_attachments/files/000/000/{i:03}/small/f{i}.webp"),
                "image/webp",
            ),
            _ => (
                format!("accounts/avatars/000/000/{i:03}/original/a{i}.mp4"),
                "video/mp4",
            ),
        };
        let data = bytes_of(i, 100 + i as usize * 37);
        fs_a.put(&key, data.clone(), content_type).await.unwrap();
        objects.push((key, data, content_type.to_owned()));
    }
    // A file whose name is not a valid key is reported, not copied.
    std::fs::write(
        fs_a.local_file_path("accounts").unwrap().join("README.TXT"),
        b"hi",
    )
    .unwrap();

    // fs → S3: everything once, then nothing.
    let s3 = server.storage("stoa-migrate").await.with_list_page_size(7);
    let report = migrate(&fs_a, &s3, "").await.unwrap();
    assert_eq!((report.copied, report.skipped), (30, 0), "{report:?}");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].key, "accounts/README.TXT");
    for (key, data, content_type) in &objects {
        assert_eq!(
            s3.get(key).await.unwrap(),
            Some((data.clone(), content_type.clone())),
            "{key}"
        );
    }
    let again = migrate(&fs_a, &s3, "").await.unwrap();
    assert_eq!((again.copied, again.skipped), (0, 30), "{again:?}");

    // Only what is missing or differs is copied again.
    s3.delete(&objects[4].0).await.unwrap();
    s3.put(
        &objects[5].0,
        Bytes::from_static(b"truncated"),
        "image/webp",
    )
    .await
    .unwrap();
    let repair = migrate(&fs_a, &s3, "").await.unwrap();
    assert_eq!((repair.copied, repair.skipped), (2, 28), "{repair:?}");
    assert_eq!(
        s3.get(&objects[5].0).await.unwrap().unwrap().0,
        objects[5].1
    );

    // S3 → a new filesystem root, restricted to a prefix, then everything.
    let fs_b = fs_storage(&dir.0.join("b")).await;
    let part = migrate(&s3, &fs_b, "accounts/").await.unwrap();
    assert_eq!(
        (part.copied, part.skipped, part.failed.len()),
        (10, 0, 0),
        "{part:?}"
    );
    let full = migrate(&s3, &fs_b, "").await.unwrap();
    assert_eq!(
        (full.copied, full.skipped, full.failed.len()),
        (20, 10, 0),
        "{full:?}"
    );
    for (key, data, content_type) in &objects {
        assert_eq!(
            fs_b.get(key).await.unwrap(),
            Some((data.clone(), content_type.clone())),
            "{key}"
        );
    }
    let again = migrate(&s3, &fs_b, "").await.unwrap();
    assert_eq!((again.copied, again.skipped), (0, 30), "{again:?}");
    let mut keys: Vec<String> = objects.iter().map(|(k, _, _)| k.clone()).collect();
    keys.sort();
    assert_eq!(fs_b.list("").await.unwrap(), keys);
}
