//! Media: uploads (asynchronous v2 and synchronous v1), processing, the files
//! served back, descriptions and focus, and attachments on statuses.

use std::io::Cursor;
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use stoa_tests::{eventually, id_of, Session, TestApp};

/// A small JPEG with a GPS-bearing EXIF segment, as phones write them.
fn photo(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    });
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .expect("encode a JPEG");
    // Insert an APP1 Exif segment right after SOI.
    let payload = b"Exif\0\0MM\0\x2a\0\0\0\x08GPSLatitude 48.85 secret place";
    let length = u16::try_from(payload.len() + 2).expect("small segment");
    let mut with_exif = vec![0xFF, 0xD8, 0xFF, 0xE1];
    with_exif.extend_from_slice(&length.to_be_bytes());
    with_exif.extend_from_slice(payload);
    with_exif.extend_from_slice(&jpeg[2..]);
    with_exif
}

fn upload_form(bytes: Vec<u8>, file_name: &str, mime: &str) -> Form {
    Form::new()
        .part(
            "file",
            Part::bytes(bytes)
                .file_name(file_name.to_owned())
                .mime_str(mime)
                .expect("valid mime"),
        )
        .text("description", "A gradient")
        .text("focus", "0.5,-0.25")
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
async fn uploaded(app: &TestApp, who: &Session) -> Value {
    let accepted = upload(
        app,
        who,
        2,
        upload_form(photo(64, 48), "photo.jpg", "image/jpeg"),
    )
    .await;
    let media = accepted.json(202);
    assert_eq!(media["url"], Value::Null, "{media}");
    let path = format!("/api/v1/media/{}", id_of(&media));
    eventually(
        "the upload is processed",
        Duration::from_secs(20),
        || async {
            let response = app.get(&path, Some(&who.token)).await;
            match response.status {
                200 => Ok(response.body),
                206 => Err("still processing".to_owned()),
                other => panic!("GET {path} answered {other}: {}", response.text),
            }
        },
    )
    .await
}

#[tokio::test]
async fn uploads_are_processed_cleaned_and_served() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let media = uploaded(&app, &alice).await;
    assert_eq!(media["type"], "image");
    assert_eq!(media["description"], "A gradient");
    assert_eq!(media["meta"]["original"]["width"], 64);
    assert_eq!(media["meta"]["original"]["height"], 48);
    assert_eq!(media["meta"]["focus"]["x"], 0.5);
    assert_eq!(media["meta"]["focus"]["y"], -0.25);
    assert!(
        media["blurhash"].as_str().is_some_and(|b| b.len() > 6),
        "{media}"
    );

    // The file comes back as an image, without the metadata it was sent with.
    let url = media["url"].as_str().expect("url once ready");
    let file = reqwest::get(url).await.expect("fetch the file");
    assert_eq!(file.status(), 200);
    assert_eq!(
        file.headers()["content-type"].to_str().expect("ascii"),
        "image/jpeg"
    );
    let bytes = file.bytes().await.expect("file bytes");
    assert!(image::load_from_memory(&bytes).is_ok());
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("Exif") && !text.contains("secret place"),
        "metadata survived"
    );
    let preview = reqwest::get(media["preview_url"].as_str().expect("preview"))
        .await
        .expect("fetch the preview");
    assert_eq!(preview.status(), 200);

    // Description and focus can be changed.
    let path = format!("/api/v1/media/{}", id_of(&media));
    let updated = app
        .send(
            app.request(reqwest::Method::PUT, &path, Some(&alice.token))
                .form(&[("description", "A new description"), ("focus", "-1,1")]),
        )
        .await
        .json(200);
    assert_eq!(updated["description"], "A new description");
    assert_eq!(updated["meta"]["focus"]["x"], -1.0);

    // Nobody else can read or change it.
    let bob = app.register("bob").await;
    app.get(&path, Some(&bob.token)).await.assert_status(404);
}

#[tokio::test]
async fn v1_uploads_answer_when_processed() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let media = upload(
        &app,
        &alice,
        1,
        upload_form(photo(40, 30), "x.jpg", "image/jpeg"),
    )
    .await
    .json(200);
    assert!(media["url"].as_str().is_some(), "{media}");
    assert!(media["preview_url"].as_str().is_some(), "{media}");
}

#[tokio::test]
async fn broken_and_foreign_files_are_refused_and_leave_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let media_root = std::path::PathBuf::from(&app.settings.media.root);

    // Not an image, whatever it claims to be.
    let refused = upload(
        &app,
        &alice,
        1,
        upload_form(b"<html>hi</html>".to_vec(), "a.jpg", "image/jpeg"),
    )
    .await;
    refused.assert_status(422);
    assert!(refused.body["error"].as_str().is_some(), "{}", refused.text);

    // A truncated JPEG: the v1 upload fails, the v2 one fails when processed.
    let mut truncated = photo(64, 48);
    truncated.truncate(truncated.len() / 3);
    let refused = upload(
        &app,
        &alice,
        1,
        upload_form(truncated.clone(), "t.jpg", "image/jpeg"),
    )
    .await;
    refused.assert_status(422);
    let accepted = upload(
        &app,
        &alice,
        2,
        upload_form(truncated, "t.jpg", "image/jpeg"),
    )
    .await
    .json(202);
    let path = format!("/api/v1/media/{}", id_of(&accepted));
    eventually(
        "the broken upload fails",
        Duration::from_secs(20),
        || async {
            let response = app.get(&path, Some(&alice.token)).await;
            match response.status {
                422 => Ok(()),
                206 => Err("still processing".to_owned()),
                other => Err(format!("{other}: {}", response.text)),
            }
        },
    )
    .await;

    // Nothing was left in storage by any of these.
    let files: Vec<_> = walk(&media_root);
    assert!(files.is_empty(), "left behind: {files:?}");

    // No file part at all.
    let empty = Form::new().text("description", "nothing");
    upload(&app, &alice, 2, empty).await.assert_status(422);
}

fn walk(root: &std::path::Path) -> Vec<std::path::PathBuf> {
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
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[tokio::test]
async fn statuses_carry_their_attachments() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let first = uploaded(&app, &alice).await;
    let second = uploaded(&app, &alice).await;

    // Text may be empty when media are attached; order is kept.
    let status = app
        .post_status(
            &alice,
            json!({"status": "", "media_ids": [id_of(&second), id_of(&first)], "sensitive": true}),
        )
        .await;
    let attachments = status["media_attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 2);
    assert_eq!(attachments[0]["id"], id_of(&second).as_str());
    assert_eq!(attachments[1]["id"], id_of(&first).as_str());
    assert_eq!(attachments[0]["description"], "A gradient");
    assert_eq!(status["sensitive"], true);

    // Seen the same way by others, and by the media-only filter.
    let fetched = app
        .get(
            &format!("/api/v1/statuses/{}", id_of(&status)),
            Some(&bob.token),
        )
        .await
        .json(200);
    assert_eq!(fetched["media_attachments"], status["media_attachments"]);

    // Attached media cannot be attached again, others' never.
    let again = app
        .post_json(
            "/api/v1/statuses",
            Some(&alice.token),
            json!({"status": "again", "media_ids": [id_of(&first)]}),
        )
        .await;
    again.assert_status(422);
    let third = uploaded(&app, &alice).await;
    let foreign = app
        .post_json(
            "/api/v1/statuses",
            Some(&bob.token),
            json!({"status": "mine?", "media_ids": [id_of(&third)]}),
        )
        .await;
    foreign.assert_status(422);

    // Editing can change descriptions and drop an attachment.
    let edited = app
        .put_json(
            &format!("/api/v1/statuses/{}", id_of(&status)),
            Some(&alice.token),
            json!({
                "status": "now with words",
                "media_ids": [id_of(&first)],
                "media_attributes": [{"id": id_of(&first), "description": "Edited"}],
            }),
        )
        .await
        .json(200);
    let attachments = edited["media_attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0]["description"], "Edited");

    // Too many attachments.
    let ids: Vec<String> = (0..5).map(|n| format!("{}", 1000 + n)).collect();
    app.post_json(
        "/api/v1/statuses",
        Some(&alice.token),
        json!({"status": "many", "media_ids": ids}),
    )
    .await
    .assert_status(422);
}

#[tokio::test]
async fn the_instance_advertises_media_limits() {
    let app = TestApp::spawn().await;
    let instance = app.get("/api/v2/instance", None).await.json(200);
    let media = &instance["configuration"]["media_attachments"];
    assert_eq!(media["image_size_limit"], 16 * 1024 * 1024);
    assert_eq!(media["image_matrix_limit"], 33_177_600);
    assert!(media["supported_mime_types"]
        .as_array()
        .is_some_and(|types| types.contains(&json!("image/jpeg"))));
}

async fn fetch_image(url: &str) -> (u32, u32) {
    let response = reqwest::get(url).await.expect("fetch the picture");
    assert_eq!(response.status(), 200, "{url}");
    let bytes = response.bytes().await.expect("picture bytes");
    let image = image::load_from_memory(&bytes).expect("a decodable picture");
    (image.width(), image.height())
}

#[tokio::test]
async fn avatars_and_headers_are_resized_served_and_replaced() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let form = Form::new()
        .text("display_name", "Alice")
        .part("avatar", Part::bytes(photo(800, 600)).file_name("me.jpg"))
        .part(
            "header",
            Part::bytes(photo(3000, 1000)).file_name("banner.jpg"),
        );
    let account = app
        .send(
            app.request(
                reqwest::Method::PATCH,
                "/api/v1/accounts/update_credentials",
                Some(&alice.token),
            )
            .multipart(form),
        )
        .await
        .json(200);
    assert_eq!(account["display_name"], "Alice");
    let avatar = account["avatar"].as_str().expect("avatar url").to_owned();
    assert!(avatar.contains("/system/accounts/avatars/"), "{avatar}");
    assert_eq!(account["avatar_static"], avatar.as_str());
    let (width, height) = fetch_image(&avatar).await;
    assert!(
        width * height <= 400 * 400 && width > height,
        "{width}x{height}"
    );
    let header = account["header"].as_str().expect("header url").to_owned();
    let (width, height) = fetch_image(&header).await;
    assert!(
        width * height <= 1500 * 500 && width > 2 * height,
        "{width}x{height}"
    );

    // The actor document carries them for other servers.
    let actor = app
        .send(
            app.request(reqwest::Method::GET, "/users/alice", None)
                .header("accept", "application/activity+json"),
        )
        .await
        .json(200);
    assert_eq!(actor["icon"]["url"], avatar.as_str(), "{actor}");
    assert_eq!(actor["image"]["url"], header.as_str(), "{actor}");

    // A new avatar replaces the old one, whose file is removed.
    let form = Form::new().part("avatar", Part::bytes(photo(100, 100)).file_name("new.jpg"));
    let account = app
        .send(
            app.request(
                reqwest::Method::PATCH,
                "/api/v1/accounts/update_credentials",
                Some(&alice.token),
            )
            .multipart(form),
        )
        .await
        .json(200);
    let new_avatar = account["avatar"].as_str().expect("avatar url");
    assert_ne!(new_avatar, avatar);
    assert_eq!(reqwest::get(&avatar).await.expect("fetch").status(), 404);
    assert_eq!(account["header"], header.as_str(), "the header stays");

    // A broken picture is refused and changes nothing.
    let form = Form::new().text("display_name", "Not applied").part(
        "avatar",
        Part::bytes(b"not an image".to_vec()).file_name("x.jpg"),
    );
    app.send(
        app.request(
            reqwest::Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&alice.token),
        )
        .multipart(form),
    )
    .await
    .assert_status(422);
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&alice.token))
        .await
        .json(200);
    assert_eq!(me["display_name"], "Alice");
    assert_eq!(me["avatar"], new_avatar);
}

// ------------------------------------------------------------ video, audio

/// A PCM WAV, 8 kHz mono 16-bit: `samples` samples of a sawtooth.
fn wav(samples: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..samples)
        .flat_map(|i| ((i % 64) as i16 * 256).to_le_bytes())
        .collect();
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8_000u32.to_le_bytes());
    out.extend_from_slice(&16_000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

fn mp4_box(kind: &[u8; 4], content: &[u8]) -> Vec<u8> {
    [&(content.len() as u32 + 8).to_be_bytes()[..], kind, content].concat()
}

fn full_box(kind: &[u8; 4], flags: u32, content: &[u8]) -> Vec<u8> {
    mp4_box(kind, &[&flags.to_be_bytes()[..], content].concat())
}

/// A minimal MP4 that players and parsers accept as far as the container
/// goes: one H.264 track of `width`x`height`, `seconds` long at 30 fps (its
/// samples are not real pictures), and a `udta` box carrying a location.
fn mp4(width: u16, height: u16, seconds: u32) -> Vec<u8> {
    const SCALE: u32 = 15_360;
    let identity: Vec<u8> = [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let be = |v: u32| v.to_be_bytes().to_vec();
    let mvhd = full_box(
        b"mvhd",
        0,
        &[
            vec![0; 8],
            be(1000),
            be(seconds * 1000),
            be(0x0001_0000),
            vec![1, 0],
            vec![0; 10],
            identity.clone(),
            vec![0; 24],
            be(2),
        ]
        .concat(),
    );
    let tkhd = full_box(
        b"tkhd",
        3,
        &[
            vec![0; 8],
            be(1),
            vec![0; 4],
            be(seconds * 1000),
            vec![0; 16],
            identity,
            be(u32::from(width) << 16),
            be(u32::from(height) << 16),
        ]
        .concat(),
    );
    let mdhd = full_box(
        b"mdhd",
        0,
        &[
            vec![0; 8],
            be(SCALE),
            be(seconds * SCALE),
            vec![0x55, 0xC4, 0, 0],
        ]
        .concat(),
    );
    let hdlr = full_box(
        b"hdlr",
        0,
        &[&[0; 4][..], b"vide", &[0; 12], b"Video\0"].concat(),
    );
    let avc1 = mp4_box(
        b"avc1",
        &[
            vec![0; 6],
            vec![0, 1],
            vec![0; 16],
            width.to_be_bytes().to_vec(),
            height.to_be_bytes().to_vec(),
            be(0x0048_0000),
            be(0x0048_0000),
            vec![0; 4],
            vec![0, 1],
            vec![0; 32],
            vec![0, 0x18, 0xFF, 0xFF],
            mp4_box(b"avcC", &[1, 0x42, 0xC0, 0x1E, 0xFF, 0xE0, 0]),
        ]
        .concat(),
    );
    let stbl = mp4_box(
        b"stbl",
        &[
            full_box(b"stsd", 0, &[be(1), avc1].concat()),
            full_box(
                b"stts",
                0,
                &[be(1), be(30 * seconds), be(SCALE / 30)].concat(),
            ),
            full_box(b"stsc", 0, &be(0)),
            full_box(b"stsz", 0, &[be(0), be(0)].concat()),
            full_box(b"stco", 0, &be(0)),
        ]
        .concat(),
    );
    let minf = mp4_box(b"minf", &[full_box(b"vmhd", 1, &[0; 8]), stbl].concat());
    let mdia = mp4_box(b"mdia", &[mdhd, hdlr, minf].concat());
    let trak = mp4_box(b"trak", &[tkhd, mdia].concat());
    let udta = mp4_box(
        b"udta",
        &mp4_box(b"\xA9xyz", b"\0\x13\x15\xC7+48.85+002.29/ home"),
    );
    let moov = mp4_box(b"moov", &[mvhd, trak, udta].concat());
    [
        mp4_box(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41"),
        moov,
        mp4_box(b"mdat", &[0x42; 2048]),
    ]
    .concat()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Upload through v2 and poll until ready, or through v1; the attachment.
async fn upload_ready(
    app: &TestApp,
    who: &Session,
    version: u8,
    bytes: Vec<u8>,
    name: &str,
    mime: &str,
) -> Value {
    let response = upload(app, who, version, upload_form(bytes, name, mime)).await;
    if version == 1 {
        return response.json(200);
    }
    let accepted = response.json(202);
    assert_eq!(accepted["url"], Value::Null, "{accepted}");
    let path = format!("/api/v1/media/{}", id_of(&accepted));
    eventually(
        "the upload is processed",
        Duration::from_secs(20),
        || async {
            let response = app.get(&path, Some(&who.token)).await;
            match response.status {
                200 => Ok(response.body),
                206 => Err("still processing".to_owned()),
                other => panic!("GET {path} answered {other}: {}", response.text),
            }
        },
    )
    .await
}

/// The file behind `url`: its content type and bytes.
async fn fetch_file(url: &str) -> (String, Vec<u8>) {
    let response = reqwest::get(url).await.expect("fetch the file");
    assert_eq!(response.status(), 200, "{url}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    (
        content_type,
        response.bytes().await.expect("file bytes").to_vec(),
    )
}

#[tokio::test]
async fn audio_is_accepted_and_served_as_uploaded() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let sound = wav(12_000); // 1.5 s
    for version in [2, 1] {
        // Whatever the client says the type is, the bytes decide.
        let media = upload_ready(
            &app,
            &alice,
            version,
            sound.clone(),
            "a.bin",
            "application/octet-stream",
        )
        .await;
        assert_eq!(media["type"], "audio", "{media}");
        assert_eq!(media["description"], "A gradient");
        let duration = media["meta"]["original"]["duration"]
            .as_f64()
            .expect("duration");
        assert!((duration - 1.5).abs() < 1e-6, "{media}");
        let bitrate = (sound.len() as f64 * 8.0 / 1.5).round() as u64;
        assert_eq!(media["meta"]["original"]["bitrate"], bitrate);
        assert_eq!(media["meta"]["duration"].as_f64(), Some(duration));
        assert_eq!(media["meta"]["length"], "0:00:01.50");
        assert_eq!(media["meta"]["audio_channels"], "mono");
        assert_eq!(media["meta"]["audio_bitrate"], "8000 Hz");
        assert_eq!(media["meta"]["audio_encode"], "pcm_s16le");
        // No thumbnail or blurhash without decoding.
        assert_eq!(media["preview_url"], Value::Null, "{media}");
        assert_eq!(media["blurhash"], Value::Null, "{media}");
        let url = media["url"].as_str().expect("url once ready");
        assert!(url.ends_with("/original.wav"), "{url}");
        let (content_type, bytes) = fetch_file(url).await;
        assert_eq!(content_type, "audio/wav");
        assert!(bytes == sound, "the file is served as uploaded");
    }
}

#[tokio::test]
async fn video_is_accepted_with_its_metadata_and_can_be_posted() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let video = mp4(320, 240, 2);
    assert!(contains(&video, b"home"));
    let mut ids = Vec::new();
    for version in [2, 1] {
        let media = upload_ready(
            &app,
            &alice,
            version,
            video.clone(),
            "clip.mp4",
            "video/mp4",
        )
        .await;
        assert_eq!(media["type"], "video", "{media}");
        let original = &media["meta"]["original"];
        assert_eq!(original["width"], 320, "{media}");
        assert_eq!(original["height"], 240);
        assert_eq!(original["frame_rate"], "30/1");
        let duration = original["duration"].as_f64().expect("duration");
        assert!((duration - 2.0).abs() < 1e-6, "{media}");
        assert_eq!(original["bitrate"], video.len() * 8 / 2);
        assert_eq!(media["meta"]["fps"], 30);
        assert_eq!(media["meta"]["size"], "320x240");
        assert_eq!(media["meta"]["length"], "0:00:02.00");
        assert_eq!(media["preview_url"], Value::Null, "{media}");
        assert_eq!(media["blurhash"], Value::Null);
        let (content_type, bytes) = fetch_file(media["url"].as_str().expect("url")).await;
        assert_eq!(content_type, "video/mp4");
        // The same file, only its location box blanked where it was.
        assert_eq!(bytes.len(), video.len());
        assert!(!contains(&bytes, b"home"), "the location survived");
        assert!(bytes[..bytes.len() - 2048 - 8] != video[..video.len() - 2048 - 8]);
        assert!(bytes[bytes.len() - 2048..] == video[video.len() - 2048..]);
        ids.push(id_of(&media));
    }

    // Posted, and seen by others with the same attachment.
    let sound = upload_ready(&app, &alice, 1, wav(800), "s.wav", "audio/wav").await;
    let status = app
        .post_status(
            &alice,
            json!({"status": "a clip", "media_ids": [ids[0], id_of(&sound)]}),
        )
        .await;
    let attachments = status["media_attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 2, "{status}");
    assert_eq!(attachments[0]["type"], "video");
    assert_eq!(attachments[0]["meta"]["original"]["frame_rate"], "30/1");
    assert_eq!(attachments[1]["type"], "audio");
    let seen = app
        .get(
            &format!("/api/v1/statuses/{}", id_of(&status)),
            Some(&bob.token),
        )
        .await
        .json(200);
    assert_eq!(seen["media_attachments"], status["media_attachments"]);

    // Other servers get the video with its type and size.
    let note = app
        .get_activity(&format!("/users/alice/statuses/{}", id_of(&status)))
        .await
        .json(200);
    let attachment = &note["attachment"][0];
    assert_eq!(attachment["mediaType"], "video/mp4", "{note}");
    assert_eq!(attachment["width"], 320, "{note}");
}

#[tokio::test]
async fn broken_or_overlong_video_is_refused_and_leaves_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let media_root = std::path::PathBuf::from(&app.settings.media.root);

    // Its movie box claims more than the file holds.
    let mut corrupt = mp4(320, 240, 2);
    corrupt[32..36].copy_from_slice(&0x00FF_FFFFu32.to_be_bytes());
    assert_eq!(&corrupt[36..40], b"moov");
    let refused = upload(
        &app,
        &alice,
        1,
        upload_form(corrupt.clone(), "c.mp4", "video/mp4"),
    )
    .await;
    refused.assert_status(422);
    assert!(
        refused
            .error()
            .contains("damaged or not a valid audio or video file"),
        "{}",
        refused.text
    );
    let accepted = upload(&app, &alice, 2, upload_form(corrupt, "c.mp4", "video/mp4"))
        .await
        .json(202);
    let path = format!("/api/v1/media/{}", id_of(&accepted));
    let error = eventually(
        "the broken upload fails",
        Duration::from_secs(20),
        || async {
            let response = app.get(&path, Some(&alice.token)).await;
            match response.status {
                422 => Ok(response.error().to_owned()),
                206 => Err("still processing".to_owned()),
                other => Err(format!("{other}: {}", response.text)),
            }
        },
    )
    .await;
    assert!(error.contains("truncated"), "{error}");

    // Two hours claimed.
    let long = mp4(320, 240, 7_200);
    let refused = upload(&app, &alice, 1, upload_form(long, "l.mp4", "video/mp4")).await;
    refused.assert_status(422);
    assert!(refused.error().contains("too long"), "{}", refused.text);

    // More pixels than the limit.
    let huge = mp4(16_000, 16_000, 1);
    let refused = upload(&app, &alice, 1, upload_form(huge, "h.mp4", "video/mp4")).await;
    refused.assert_status(422);
    assert!(refused.error().contains("16000x16000"), "{}", refused.text);

    let files = walk(&media_root);
    assert!(files.is_empty(), "left behind: {files:?}");
}

#[tokio::test]
async fn video_limits_come_from_the_configuration() {
    // Images up to 20 KB, video and audio up to 60 KB.
    let app = TestApp::spawn_with(|settings| {
        settings.media.image_size_limit = 20 * 1024;
        settings.media.video_size_limit = 60 * 1024;
    })
    .await;
    let instance = app.get("/api/v2/instance", None).await.json(200);
    let media = &instance["configuration"]["media_attachments"];
    assert_eq!(media["video_size_limit"], 60 * 1024);
    assert_eq!(media["video_frame_rate_limit"], 120);
    assert_eq!(media["video_matrix_limit"], 33_177_600);
    let types = media["supported_mime_types"].as_array().expect("types");
    for wanted in [
        "video/mp4",
        "video/webm",
        "video/quicktime",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/flac",
        "audio/mp4",
    ] {
        assert!(types.contains(&json!(wanted)), "{wanted} in {types:?}");
    }

    let alice = app.register("alice").await;
    // 40 KB of sound: over the image limit, within the video one.
    let media = upload_ready(&app, &alice, 1, wav(20_000), "s.wav", "audio/wav").await;
    assert_eq!(media["type"], "audio");
    // 80 KB: over it.
    let refused = upload(
        &app,
        &alice,
        1,
        upload_form(wav(40_000), "s.wav", "audio/wav"),
    )
    .await;
    refused.assert_status(422);
    assert!(refused.error().contains("too large"), "{}", refused.text);
}
