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
