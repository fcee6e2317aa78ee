//! Media on S3-compatible object storage, end to end: an instance configured
//! for S3 from the start, an existing instance switched from the filesystem
//! to S3 by editing its config and running `stoa admin media migrate`, and
//! S3 settings that do not work.
//!
//! The S3 server is a real `moto_server` process on a free loopback port
//! (installed into `.venv` by `scripts/test.sh`; another binary can be given
//! as `STOA_TEST_S3_SERVER`). Moto enforces object ACLs for anonymous
//! requests, so fetching a file by its public URL without credentials also
//! checks that Stoa wrote it `public-read`. The tests talk to moto with plain
//! unsigned HTTP (which it accepts), not through Stoa's storage code.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use stoa_config::{Settings, StorageBackend};
use stoa_tests::{
    eventually, id_of, random_suffix, settings_env, settings_toml, stoa_binary, Session, TestApp,
};

/// Every test here must end within this, set-up included.
const TEST_BUDGET: Duration = Duration::from_secs(60);
/// How long an asynchronous upload may take to be processed.
const PROCESSING_TIMEOUT: Duration = Duration::from_secs(20);
/// What Stoa sends with every object (`stoa_storage::CACHE_CONTROL`).
const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

async fn within_budget(test: impl std::future::Future<Output = ()>) {
    let started = Instant::now();
    if tokio::time::timeout(TEST_BUDGET, test).await.is_err() {
        panic!("the test overran its budget of {TEST_BUDGET:?}");
    }
    eprintln!("took {:.1?}", started.elapsed());
}

// ---------------------------------------------------------------------------
// The S3 server
// ---------------------------------------------------------------------------

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("stoa-{name}-{}", random_suffix()));
        std::fs::create_dir_all(&path).expect("cannot create a temporary directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn s3_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("STOA_TEST_S3_SERVER") {
        return PathBuf::from(path);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server")
}

/// A `moto_server` process on a free loopback port, killed when dropped.
struct S3Server {
    /// `http://127.0.0.1:<port>`
    endpoint: String,
    client: reqwest::Client,
    _child: tokio::process::Child,
    _dir: TempDir,
}

impl S3Server {
    async fn start() -> S3Server {
        let binary = s3_server_binary();
        assert!(
            binary.exists(),
            "the S3-compatible test server {} is not installed: run scripts/test.sh \
             (it installs moto[server] into .venv), or point STOA_TEST_S3_SERVER at a moto_server",
            binary.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("no free port")
            .port();
        let dir = TempDir::new("moto");
        let log_path = dir.0.join("moto.log");
        let log = std::fs::File::create(&log_path).expect("cannot create moto's log");
        let mut child = tokio::process::Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let deadline = Instant::now() + Duration::from_secs(30);
        let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Some(status) = child.try_wait().expect("cannot poll moto_server") {
                panic!("{} exited with {status}:\n{}", binary.display(), read_log());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not listen on port {port} within 30 s:\n{}",
                binary.display(),
                read_log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        S3Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("cannot build an HTTP client"),
            _child: child,
            _dir: dir,
        }
    }

    /// Create `bucket` with an unsigned `PUT /{bucket}`.
    async fn create_bucket(&self, bucket: &str) {
        let response = self
            .client
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .expect("PUT bucket");
        assert_eq!(
            response.status(),
            200,
            "cannot create bucket {bucket}: {}",
            response.text().await.unwrap_or_default()
        );
    }

    /// Keys under `prefix` in `bucket` (ListObjectsV2, first 1000).
    async fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let response = self
            .client
            .get(format!("{}/{bucket}", self.endpoint))
            .query(&[("list-type", "2"), ("prefix", prefix)])
            .send()
            .await
            .expect("list the bucket");
        assert_eq!(response.status(), 200, "cannot list bucket {bucket}");
        let xml = response.text().await.expect("listing body");
        xml.split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
            .collect()
    }

    /// The ACL of an object, as XML, read without credentials.
    async fn acl(&self, url: &str) -> String {
        let response = self
            .client
            .get(format!("{url}?acl"))
            .send()
            .await
            .expect("GET ?acl");
        assert_eq!(response.status(), 200, "cannot read the ACL of {url}");
        response.text().await.expect("ACL body")
    }

    /// `[media]` on this server and `bucket`, as an admin would write it.
    fn configure(&self, settings: &mut Settings, bucket: &str) {
        let media = &mut settings.media;
        media.backend = StorageBackend::S3;
        media.s3_bucket = bucket.to_owned();
        media.s3_region = "us-east-1".to_owned();
        media.s3_endpoint = self.endpoint.clone();
        media.s3_force_path_style = true;
        media.s3_acl_public_read = true;
        media.s3_access_key_id = "test".to_owned();
        media.s3_secret_access_key = "test".to_owned();
    }

    /// Where an object of `bucket` is served (path-style addressing).
    fn base(&self, bucket: &str) -> String {
        format!("{}/{bucket}/", self.endpoint)
    }
}

fn new_bucket_name() -> String {
    format!("stoa-media-{}", random_suffix())
}

// ---------------------------------------------------------------------------
// Uploads and files
// ---------------------------------------------------------------------------

/// A JPEG gradient; `seed` changes its colours, so each one is different.
fn photo(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, seed])
    });
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .expect("encode a JPEG");
    jpeg
}

fn upload_form(bytes: Vec<u8>, description: &str) -> Form {
    Form::new()
        .part(
            "file",
            Part::bytes(bytes)
                .file_name("photo.jpg")
                .mime_str("image/jpeg")
                .expect("valid mime"),
        )
        .text("description", description.to_owned())
}

async fn upload(app: &TestApp, who: &Session, version: u8, form: Form) -> stoa_tests::Response {
    let path = format!("/api/v{version}/media");
    app.send(
        app.request(reqwest::Method::POST, &path, Some(&who.token))
            .multipart(form),
    )
    .await
}

/// Upload through v2 and wait until processed; the ready attachment.
async fn uploaded(app: &TestApp, who: &Session, bytes: Vec<u8>, description: &str) -> Value {
    let media = upload(app, who, 2, upload_form(bytes, description))
        .await
        .json(202);
    assert_eq!(media["url"], Value::Null, "{media}");
    let path = format!("/api/v1/media/{}", id_of(&media));
    eventually("the upload is processed", PROCESSING_TIMEOUT, || async {
        let response = app.get(&path, Some(&who.token)).await;
        match response.status {
            200 => Ok(response.body),
            206 => Err("still processing".to_owned()),
            other => panic!("GET {path} answered {other}: {}", response.text),
        }
    })
    .await
}

/// A file fetched by its public URL, without credentials.
struct Fetched {
    content_type: String,
    cache_control: Option<String>,
    bytes: Vec<u8>,
}

async fn fetch(url: &str) -> Fetched {
    let response = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type").unwrap_or_default();
    let cache_control = header("cache-control");
    let bytes = response.bytes().await.expect("file body").to_vec();
    assert_eq!(
        status,
        200,
        "GET {url} answered {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    Fetched {
        content_type,
        cache_control,
        bytes,
    }
}

/// Fetch `url` and check it is an image of the type it is served as; returns
/// it.
async fn fetch_image(url: &str) -> Fetched {
    let file = fetch(url).await;
    let format =
        image::guess_format(&file.bytes).unwrap_or_else(|e| panic!("{url} is not an image ({e})"));
    assert_eq!(
        file.content_type,
        format.to_mime_type(),
        "{url} is served with the wrong content type"
    );
    assert!(
        image::load_from_memory(&file.bytes).is_ok(),
        "{url} does not decode"
    );
    file
}

#[track_caller]
fn url_of<'a>(media: &'a Value, field: &str) -> &'a str {
    media[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {media}"))
}

/// Files (not directories, not hidden sidecars) under `root`, as keys.
fn files_under(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if !entry.file_name().to_string_lossy().starts_with('.') {
                let key = path.strip_prefix(root).expect("under the root");
                files.push(key.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files.sort();
    files
}

// ---------------------------------------------------------------------------
// The `stoa` command line
// ---------------------------------------------------------------------------

struct CommandOutput {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Run `stoa <args>` with `settings` as its only `STOA_*` environment.
async fn stoa_command(settings: &Settings, args: &[&str]) -> CommandOutput {
    let binary = stoa_binary();
    let mut command = tokio::process::Command::new(&binary);
    command.args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("STOA_") {
            command.env_remove(key);
        }
    }
    command
        .envs(settings_env(settings))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("stoa {} did not finish within 30 s", args.join(" ")))
        .expect("cannot wait for stoa");
    CommandOutput {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `stoa admin media migrate --from <old config>` with the current settings;
/// asserts success and returns the summary line.
async fn migrate_media(settings: &Settings, old_config: &Path) -> String {
    let from = old_config.to_string_lossy();
    let output = stoa_command(settings, &["admin", "media", "migrate", "--from", &from]).await;
    assert!(
        output.success,
        "stoa admin media migrate failed:\nstdout: {}\nstderr: {}",
        output.stdout, output.stderr
    );
    output
        .stdout
        .lines()
        .find(|line| line.starts_with("copied "))
        .unwrap_or_else(|| panic!("no summary in the output: {}", output.stdout))
        .to_owned()
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// An instance configured for S3 from the start: files go to the bucket
/// (public-read, cached for ever), never to the local disk, and every URL
/// clients and the status API see is on the bucket.
#[tokio::test]
async fn an_instance_on_s3_serves_media_from_the_bucket() {
    within_budget(async {
        let s3 = S3Server::start().await;
        let bucket = new_bucket_name();
        s3.create_bucket(&bucket).await;
        let app = TestApp::spawn_with(|settings| s3.configure(settings, &bucket)).await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;

        // Asynchronous upload: processed, then on the bucket.
        let media = uploaded(&app, &alice, photo(64, 48, 10), "On S3").await;
        let base = s3.base(&bucket);
        let url = url_of(&media, "url");
        let preview_url = url_of(&media, "preview_url");
        for (field, value) in [("url", url), ("preview_url", preview_url)] {
            assert!(
                value.starts_with(&format!("{base}media_attachments/")),
                "{field} {value} is not on the bucket {base}"
            );
        }
        assert_ne!(url, preview_url);
        let original = fetch_image(url).await;
        assert_eq!(original.content_type, "image/jpeg");
        assert_eq!(original.cache_control.as_deref(), Some(CACHE_CONTROL));
        let decoded = image::load_from_memory(&original.bytes).expect("decodes");
        assert_eq!((decoded.width(), decoded.height()), (64, 48));
        let preview = fetch_image(preview_url).await;
        assert!(!preview.bytes.is_empty());
        // Readable without credentials because Stoa wrote it public-read.
        let acl = s3.acl(url).await;
        assert!(
            acl.contains("http://acs.amazonaws.com/groups/global/AllUsers")
                && acl.contains("<Permission>READ</Permission>"),
            "the original is not public-read: {acl}"
        );

        // The synchronous upload works the same way.
        let sync = upload(&app, &alice, 1, upload_form(photo(40, 30, 20), "Sync"))
            .await
            .json(200);
        assert!(url_of(&sync, "url").starts_with(&base), "{sync}");
        fetch_image(url_of(&sync, "url")).await;

        // Only the processed files are in the bucket: the raw uploads were
        // removed, and nothing was written to the local media directory.
        let mut expected: Vec<String> = [&media, &sync]
            .iter()
            .flat_map(|m| [url_of(m, "url"), url_of(m, "preview_url")])
            .map(|u| u.strip_prefix(&base).expect("on the bucket").to_owned())
            .collect();
        expected.sort();
        assert_eq!(s3.keys(&bucket, "").await, expected);
        let local = files_under(Path::new(&app.settings.media.root));
        assert!(local.is_empty(), "files on the local disk: {local:?}");

        // A status with the picture, read back by someone else.
        let status = app
            .post_status(
                &alice,
                json!({"status": "a picture", "media_ids": [id_of(&media)]}),
            )
            .await;
        let fetched = app
            .get(
                &format!("/api/v1/statuses/{}", id_of(&status)),
                Some(&bob.token),
            )
            .await
            .json(200);
        let attachments = fetched["media_attachments"]
            .as_array()
            .expect("attachments");
        assert_eq!(attachments.len(), 1, "{fetched}");
        assert_eq!(attachments[0]["id"], id_of(&media).as_str());
        assert_eq!(attachments[0]["url"], url);
        assert_eq!(attachments[0]["preview_url"], preview_url);
        assert_eq!(attachments[0]["description"], "On S3");
        assert_eq!(fetch_image(url).await.bytes, original.bytes);

        // The public timeline shows the same URLs.
        let public = app.get("/api/v1/timelines/public", None).await.json(200);
        let shown = public
            .as_array()
            .and_then(|statuses| statuses.iter().find(|s| s["id"] == status["id"]))
            .unwrap_or_else(|| panic!("the status is not on the public timeline: {public}"));
        assert_eq!(shown["media_attachments"][0]["url"], url);
    })
    .await;
}

/// A CDN alias (`public_base_url`) in front of the bucket: the URLs use it,
/// the objects are in the bucket under the same keys.
#[tokio::test]
async fn s3_files_can_be_served_through_a_cdn_alias() {
    within_budget(async {
        let s3 = S3Server::start().await;
        let bucket = new_bucket_name();
        s3.create_bucket(&bucket).await;
        let cdn = "https://media.cdn.example/stoa";
        let app = TestApp::spawn_with(|settings| {
            s3.configure(settings, &bucket);
            settings.media.public_base_url = cdn.to_owned();
        })
        .await;
        let alice = app.register("alice").await;
        let media = upload(&app, &alice, 1, upload_form(photo(32, 32, 30), "CDN"))
            .await
            .json(200);
        let mut keys = Vec::new();
        for field in ["url", "preview_url"] {
            let key = url_of(&media, field)
                .strip_prefix(&format!("{cdn}/"))
                .unwrap_or_else(|| panic!("{field} is not under the CDN alias {cdn}: {media}"));
            // The same key on the bucket holds the file.
            fetch_image(&format!("{}{key}", s3.base(&bucket))).await;
            keys.push(key.to_owned());
        }
        keys.sort();
        assert_eq!(s3.keys(&bucket, "").await, keys);
    })
    .await;
}

/// The "switching is a config change": an instance with media on
/// the filesystem gets a `[media]` section for S3, the admin copies the
/// files with `stoa admin media migrate --from <old config>` and restarts;
/// the old attachments are then served from the bucket, byte for byte.
#[tokio::test]
async fn an_instance_switches_from_the_filesystem_to_s3() {
    within_budget(async {
        let s3 = S3Server::start().await;
        let bucket = new_bucket_name();
        s3.create_bucket(&bucket).await;

        // Before: the default filesystem backend, served by Stoa itself.
        let app = TestApp::spawn().await;
        assert_eq!(app.settings.media.backend, StorageBackend::Filesystem);
        let alice = app.register("alice").await;
        let first = uploaded(&app, &alice, photo(64, 48, 40), "First").await;
        let second = uploaded(&app, &alice, photo(48, 64, 200), "Second").await;
        let status = app
            .post_status(
                &alice,
                json!({"status": "two pictures", "media_ids": [id_of(&first), id_of(&second)]}),
            )
            .await;
        let status_path = format!("/api/v1/statuses/{}", id_of(&status));
        let local_base = format!("{}/system/", app.base_url);
        let mut before = Vec::new(); // (key, content type, bytes) per file
        for media in [&first, &second] {
            for field in ["url", "preview_url"] {
                let url = url_of(media, field);
                let key = url
                    .strip_prefix(&local_base)
                    .unwrap_or_else(|| panic!("{field} {url} is not under {local_base}"));
                let file = fetch_image(url).await;
                before.push((key.to_owned(), file.content_type, file.bytes));
            }
        }
        let media_root = PathBuf::from(&app.settings.media.root);
        let mut keys: Vec<String> = before.iter().map(|(key, _, _)| key.clone()).collect();
        keys.sort();
        assert_eq!(files_under(&media_root), keys, "files on disk");
        assert!(s3.keys(&bucket, "").await.is_empty());

        // The admin keeps the old config file and edits [media].
        let config_dir = TempDir::new("config");
        let old_config = config_dir.0.join("old.toml");
        std::fs::write(&old_config, settings_toml(&app.settings)).expect("write old.toml");
        let mut new_settings = app.settings.clone();
        s3.configure(&mut new_settings, &bucket);

        // Copy the files while the old server still runs; again is a no-op.
        let summary = migrate_media(&new_settings, &old_config).await;
        assert_eq!(summary, "copied 4, already there 0, failed 0");
        let summary = migrate_media(&new_settings, &old_config).await;
        assert_eq!(summary, "copied 0, already there 4, failed 0");
        assert_eq!(s3.keys(&bucket, "").await, keys, "objects in the bucket");
        // Nothing is deleted from the old storage.
        assert_eq!(files_under(&media_root), keys, "files on disk after");

        // Restart with the new config.
        let app = app
            .restart_with(|settings| s3.configure(settings, &bucket))
            .await;
        let bucket_base = s3.base(&bucket);
        let fetched = app.get(&status_path, None).await.json(200);
        let attachments = fetched["media_attachments"]
            .as_array()
            .expect("attachments");
        assert_eq!(attachments.len(), 2, "{fetched}");
        let mut after = Vec::new();
        for (attachment, media) in attachments.iter().zip([&first, &second]) {
            assert_eq!(attachment["id"], id_of(media).as_str());
            assert_eq!(attachment["blurhash"], media["blurhash"]);
            assert_eq!(attachment["meta"], media["meta"]);
            for field in ["url", "preview_url"] {
                let url = url_of(attachment, field);
                let key = url.strip_prefix(&bucket_base).unwrap_or_else(|| {
                    panic!("after the switch, {field} {url} is not on the bucket {bucket_base}")
                });
                let file = fetch_image(url).await;
                assert_eq!(file.cache_control.as_deref(), Some(CACHE_CONTROL));
                after.push((key.to_owned(), file.content_type, file.bytes));
            }
        }
        assert!(
            before == after,
            "the files on S3 differ from those served before the switch"
        );

        // The ActivityPub Note points at the bucket too.
        let uri = status["uri"].as_str().expect("uri");
        let note = app.get_activity(uri).await.json(200);
        let urls: Vec<&str> = note["attachment"]
            .as_array()
            .unwrap_or_else(|| panic!("no attachments in {note}"))
            .iter()
            .filter_map(|document| document["url"].as_str())
            .collect();
        assert_eq!(
            urls,
            [
                url_of(&attachments[0], "url"),
                url_of(&attachments[1], "url")
            ],
            "{note}"
        );

        // New uploads go to the bucket, not to the old directory.
        let third = uploaded(&app, &alice, photo(20, 20, 90), "Third").await;
        assert!(url_of(&third, "url").starts_with(&bucket_base), "{third}");
        fetch_image(url_of(&third, "url")).await;
        assert_eq!(s3.keys(&bucket, "").await.len(), 6);
        assert_eq!(files_under(&media_root), keys, "files on disk at the end");
        let _ = std::fs::remove_dir_all(&media_root);
    })
    .await;
}

/// S3 settings naming a bucket that does not exist: Stoa starts (it makes
/// no request to the storage at start), each upload fails with a 5xx and a
/// JSON error and leaves no attachment behind, the server keeps answering,
/// and once the bucket exists uploads work without a restart.
#[tokio::test]
async fn a_missing_bucket_fails_uploads_without_breaking_the_server() {
    within_budget(async {
        let s3 = S3Server::start().await;
        let bucket = new_bucket_name();
        let app = TestApp::spawn_with(|settings| s3.configure(settings, &bucket)).await;
        let alice = app.register("alice").await;

        for version in [2, 1] {
            let refused = upload(&app, &alice, version, upload_form(photo(32, 24, 50), "x")).await;
            assert!(
                (500..600).contains(&refused.status),
                "POST /api/v{version}/media to a missing bucket answered {}: {}",
                refused.status,
                refused.text
            );
            assert!(
                refused.body["error"].as_str().is_some(),
                "no JSON error: {}",
                refused.text
            );
        }
        let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM media_attachments")
            .fetch_one(&app.db)
            .await
            .expect("count attachments");
        assert_eq!(rows, 0, "failed uploads left attachments behind");

        // Still serving.
        app.get("/api/v1/accounts/verify_credentials", Some(&alice.token))
            .await
            .assert_status(200);
        app.post_status(&alice, json!({"status": "still here"}))
            .await;

        // The admin creates the bucket: no restart needed.
        s3.create_bucket(&bucket).await;
        let media = uploaded(&app, &alice, photo(32, 24, 60), "Now").await;
        assert!(
            url_of(&media, "url").starts_with(&s3.base(&bucket)),
            "{media}"
        );
        fetch_image(url_of(&media, "url")).await;
    })
    .await;
}

/// An S3 endpoint nobody listens on: uploads fail with a 5xx in bounded
/// time instead of hanging, and the server keeps answering.
#[tokio::test]
async fn an_unreachable_s3_endpoint_fails_uploads_quickly() {
    within_budget(async {
        let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("no free port")
            .port();
        let app = TestApp::spawn_with(|settings| {
            let media = &mut settings.media;
            media.backend = StorageBackend::S3;
            media.s3_bucket = "stoa-media".to_owned();
            media.s3_endpoint = format!("http://127.0.0.1:{closed_port}");
            media.s3_force_path_style = true;
            media.s3_access_key_id = "test".to_owned();
            media.s3_secret_access_key = "test".to_owned();
        })
        .await;
        let alice = app.register("alice").await;
        let started = Instant::now();
        let refused = upload(&app, &alice, 2, upload_form(photo(16, 16, 70), "x")).await;
        assert!(
            (500..600).contains(&refused.status),
            "an upload to an unreachable S3 answered {}: {}",
            refused.status,
            refused.text
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the failing upload took {:?}",
            started.elapsed()
        );
        app.get("/api/v1/accounts/verify_credentials", Some(&alice.token))
            .await
            .assert_status(200);
    })
    .await;
}

/// S3 settings that cannot work at all (no bucket name) stop `stoa serve`
/// at start with an error naming the setting, and `stoa admin media
/// migrate` likewise.
#[tokio::test]
async fn unusable_s3_settings_are_refused_at_start() {
    within_budget(async {
        let app = TestApp::spawn().await;
        let mut settings = app.settings.clone();
        settings.http.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        settings.media.backend = StorageBackend::S3;
        settings.media.s3_bucket = String::new();

        let serve = stoa_command(&settings, &["serve"]).await;
        assert!(!serve.success, "stoa serve started: {}", serve.stdout);
        assert!(
            serve.stderr.contains("S3 bucket name"),
            "stoa serve did not explain: {}",
            serve.stderr
        );

        let config_dir = TempDir::new("config");
        let old_config = config_dir.0.join("old.toml");
        std::fs::write(&old_config, settings_toml(&app.settings)).expect("write old.toml");
        let from = old_config.to_string_lossy();
        let migrate =
            stoa_command(&settings, &["admin", "media", "migrate", "--from", &from]).await;
        assert!(!migrate.success, "migrate succeeded: {}", migrate.stdout);
        assert!(
            migrate.stderr.contains("S3 bucket name"),
            "migrate did not explain: {}",
            migrate.stderr
        );
    })
    .await;
}
