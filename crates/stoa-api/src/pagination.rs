//! Mastodon pagination: `max_id` / `since_id` / `min_id` / `limit` in, a
//! `Link` header out with `rel="next"` first (toot anchors its parser there)
//! and no header at all on an empty page (Tusky would loop on `prev`).

use axum::http::header::LINK;
use axum::http::{HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use stoa_db::Page;

#[derive(Debug, Default, Deserialize)]
pub struct PageParams {
    pub max_id: Option<String>,
    pub since_id: Option<String>,
    pub min_id: Option<String>,
    pub limit: Option<i64>,
}

impl PageParams {
    /// Clamp the limit to `1..=max`; cursors that are not ids are ignored.
    pub fn page(&self, default_limit: i64, max_limit: i64) -> Page {
        let cursor = |raw: &Option<String>| raw.as_deref().and_then(stoa_domain::parse_id);
        Page {
            max_id: cursor(&self.max_id),
            since_id: cursor(&self.since_id),
            min_id: cursor(&self.min_id),
            limit: self.limit.unwrap_or(default_limit).clamp(1, max_limit),
        }
    }

    /// The usual limits: 20 by default, 40 at most.
    pub fn standard(&self) -> Page {
        self.page(20, 40)
    }
}

/// A JSON list with its Link header.
pub struct Paged<T> {
    pub items: Vec<T>,
    pub link: Option<HeaderValue>,
}

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.items).into_response();
        if let Some(link) = self.link {
            response.headers_mut().insert(LINK, link);
        }
        response
    }
}

/// Build the Link header for a page whose items have cursors from `newest` to
/// `oldest`. Other query parameters (filters, limit) are kept.
pub fn link_header(
    base_url: &str,
    uri: &Uri,
    newest: Option<i64>,
    oldest: Option<i64>,
) -> Option<HeaderValue> {
    let (newest, oldest) = (newest?, oldest?);
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            !pair.is_empty() && !matches!(key, "max_id" | "min_id" | "since_id")
        })
        .collect();
    let prefix = if kept.is_empty() {
        String::new()
    } else {
        format!("{}&", kept.join("&"))
    };
    let path = uri.path();
    let value = format!(
        "<{base_url}{path}?{prefix}max_id={oldest}>; rel=\"next\", <{base_url}{path}?{prefix}min_id={newest}>; rel=\"prev\""
    );
    HeaderValue::from_str(&value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_keeps_filters_and_drops_cursors() {
        let uri: Uri = "/api/v1/notifications?limit=2&max_id=9&types[]=mention"
            .parse()
            .unwrap();
        let link = link_header("https://x.test", &uri, Some(8), Some(5)).unwrap();
        assert_eq!(
            link.to_str().unwrap(),
            "<https://x.test/api/v1/notifications?limit=2&types[]=mention&max_id=5>; rel=\"next\", \
             <https://x.test/api/v1/notifications?limit=2&types[]=mention&min_id=8>; rel=\"prev\""
        );
        assert!(link_header("https://x.test", &uri, None, None).is_none());
    }

    #[test]
    fn limits_are_clamped() {
        let params = PageParams {
            limit: Some(1000),
            max_id: Some("abc".into()),
            ..PageParams::default()
        };
        let page = params.standard();
        assert_eq!(page.limit, 40);
        assert_eq!(page.max_id, None);
        let params = PageParams {
            limit: Some(-5),
            ..PageParams::default()
        };
        assert_eq!(params.standard().limit, 1);
    }
}
