//! Timelines (home, public, hashtag) and Mastodon pagination: max_id,
//! since_id, min_id, limit, and Link headers with `next` first.

use serde_json::json;
use stoa_tests::{id_of, query_param, Response, Session, TestApp};

const LOCAL: &str = "/api/v1/timelines/public?local=true";

async fn post(app: &TestApp, who: &Session, text: &str) -> String {
    id_of(&app.post_status(who, json!({"status": text})).await)
}

#[tokio::test]
async fn home_shows_own_and_followed_statuses() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    app.follow(&alice, &bob).await;

    let b1 = post(&app, &bob, "bob public").await;
    let b2 = id_of(
        &app.post_status(
            &bob,
            json!({"status": "bob private", "visibility": "private"}),
        )
        .await,
    );
    post(&app, &carol, "carol").await;
    let a1 = post(&app, &alice, "alice").await;

    let home = app.get("/api/v1/timelines/home", Some(&alice.token)).await;
    home.assert_status(200);
    assert_eq!(home.ids(), [a1, b2.clone(), b1.clone()]);
    let bobs = app.get("/api/v1/timelines/home", Some(&bob.token)).await;
    assert_eq!(bobs.ids(), [b2, b1]);

    app.get("/api/v1/timelines/home", None)
        .await
        .assert_error(401, "The access token is invalid");
}

#[tokio::test]
async fn public_timeline_has_only_public_originals() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let p1 = post(&app, &alice, "public").await;
    for visibility in ["unlisted", "private", "direct"] {
        app.post_status(
            &alice,
            json!({"status": visibility, "visibility": visibility}),
        )
        .await;
    }
    let p2 = post(&app, &bob, "bob public").await;
    app.post(&format!("/api/v1/statuses/{p1}/reblog"), Some(&bob.token))
        .await
        .assert_status(200);

    let local = app.get(LOCAL, None).await;
    local.assert_status(200);
    assert_eq!(local.ids(), [p2.clone(), p1.clone()]);
    let all = app
        .get("/api/v1/timelines/public", Some(&alice.token))
        .await;
    assert_eq!(all.ids(), [p2, p1]);
    let remote = app.get("/api/v1/timelines/public?remote=true", None).await;
    assert!(remote.ids().is_empty());
}

#[tokio::test]
async fn hashtag_timeline() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let first = post(&app, &alice, "I like #Rust").await;
    let second = post(&app, &bob, "#rust again").await;
    post(&app, &bob, "no tag, just rust").await;
    app.post_status(
        &alice,
        json!({"status": "quiet #rust", "visibility": "private"}),
    )
    .await;

    for tag in ["rust", "RUST"] {
        let tagged = app.get(&format!("/api/v1/timelines/tag/{tag}"), None).await;
        tagged.assert_status(200);
        assert_eq!(tagged.ids(), [second.clone(), first.clone()], "tag {tag}");
    }
    assert!(app
        .get("/api/v1/timelines/tag/nothing", None)
        .await
        .ids()
        .is_empty());
}

/// The `max_id` / `min_id` of a page's links, checking the header's shape.
fn cursors(page: &Response, base_url: &str) -> (String, String) {
    let header = page
        .header("link")
        .expect("a non-empty page has a Link header");
    assert!(
        header.starts_with('<') && header.contains(r#">; rel="next""#),
        "toot reads rel=\"next\" first: {header}"
    );
    let links = page.links();
    assert_eq!(links.len(), 2, "{header}");
    assert_eq!(links[0].0, "next", "{header}");
    assert_eq!(links[1].0, "prev", "{header}");
    for (_, url) in &links {
        assert!(url.starts_with(base_url), "relative link {url}");
        assert_eq!(query_param(url, "limit").as_deref(), Some("2"), "{url}");
        assert_eq!(query_param(url, "local").as_deref(), Some("true"), "{url}");
    }
    (
        query_param(&links[0].1, "max_id").expect("next link has max_id"),
        query_param(&links[1].1, "min_id").expect("prev link has min_id"),
    )
}

#[tokio::test]
async fn pagination_follows_mastodon() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut s = Vec::new();
    for i in 1..=5 {
        s.push(post(&app, &alice, &format!("status {i}")).await);
    }
    // s[0] is the oldest; pages are newest first.
    let page = |query: String| {
        let app = &app;
        async move { app.get(&format!("{LOCAL}&{query}"), None).await }
    };

    let first = page("limit=2".into()).await;
    assert_eq!(first.ids(), [s[4].clone(), s[3].clone()]);
    let (max_id, min_id) = cursors(&first, &app.base_url);
    assert_eq!(max_id, s[3]);
    assert_eq!(min_id, s[4]);

    let next = first.link("next").expect("next");
    let second = app.get(&next, None).await;
    assert_eq!(second.ids(), [s[2].clone(), s[1].clone()]);
    let (max_id, min_id) = cursors(&second, &app.base_url);
    assert_eq!(max_id, s[1]);
    assert_eq!(min_id, s[2]);

    let third = app.get(&second.link("next").expect("next"), None).await;
    assert_eq!(third.ids(), [s[0].clone()]);
    let last = app.get(&third.link("next").expect("next"), None).await;
    last.assert_status(200);
    assert!(last.ids().is_empty());
    assert_eq!(
        last.header("link"),
        None,
        "an empty page must not have a Link header"
    );

    // Nothing newer than the newest: empty, and no Link (Tusky loops on prev).
    let newer = app.get(&first.link("prev").expect("prev"), None).await;
    assert!(newer.ids().is_empty());
    assert_eq!(newer.header("link"), None);

    // min_id: the page immediately after it, still newest first.
    let after = page(format!("limit=2&min_id={}", s[0])).await;
    assert_eq!(after.ids(), [s[2].clone(), s[1].clone()]);
    // since_id: the newest ones, down to it.
    let since = page(format!("limit=2&since_id={}", s[0])).await;
    assert_eq!(since.ids(), [s[4].clone(), s[3].clone()]);
    let since = page(format!("limit=2&since_id={}", s[2])).await;
    assert_eq!(since.ids(), [s[4].clone(), s[3].clone()]);
    let between = page(format!("limit=2&max_id={}&since_id={}", s[3], s[0])).await;
    assert_eq!(between.ids(), [s[2].clone(), s[1].clone()]);
}

#[tokio::test]
async fn favourites_and_bookmarks_paginate_by_when_they_were_made() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let s1 = post(&app, &alice, "one").await;
    let s2 = post(&app, &alice, "two").await;
    let s3 = post(&app, &alice, "three").await;

    for (list, action, order) in [
        ("/api/v1/favourites", "favourite", [&s2, &s1, &s3]),
        ("/api/v1/bookmarks", "bookmark", [&s1, &s3, &s2]),
    ] {
        for id in order {
            app.post(&format!("/api/v1/statuses/{id}/{action}"), Some(&bob.token))
                .await
                .assert_status(200);
        }
        // Newest first by the favourite/bookmark, not by the status id: the
        // cursor in the Link header is not a status id.
        let first = app.get(&format!("{list}?limit=2"), Some(&bob.token)).await;
        assert_eq!(first.ids(), [order[2].clone(), order[1].clone()], "{list}");
        let next = first.link("next").expect("next link");
        let second = app.get(&next, Some(&bob.token)).await;
        assert_eq!(second.ids(), [order[0].clone()], "{list} page 2");
        if let Some(next) = second.link("next") {
            let third = app.get(&next, Some(&bob.token)).await;
            assert!(third.ids().is_empty(), "{list} page 3");
        }
    }
}

#[tokio::test]
async fn limit_is_clamped_to_forty() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    for i in 0..41 {
        post(&app, &alice, &format!("status {i}")).await;
    }
    assert_eq!(app.get(LOCAL, None).await.ids().len(), 20, "default limit");
    assert_eq!(
        app.get(&format!("{LOCAL}&limit=1000"), None)
            .await
            .ids()
            .len(),
        40
    );
    assert_eq!(
        app.get(&format!("{LOCAL}&limit=5"), None).await.ids().len(),
        5
    );
}
