//! The few server-rendered pages (sign-in, consent, errors) and the cookies
//! behind them. Every interpolated value goes through `escape`.

use axum::http::header::{CONTENT_SECURITY_POLICY, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

pub use stoa_domain::text::escape_html as escape;

/// No `form-action`: Chromium applies it to the redirect that follows the
/// consent form, which would block `oauth2redirect://` (mastodon#22138).
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
                   frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f4f8;color:#1b1b24;\
margin:0;display:flex;justify-content:center}main{background:#fff;max-width:26rem;width:100%;\
margin:3rem 1rem;padding:2rem;border-radius:12px;box-shadow:0 2px 10px #0001}\
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:1rem 0 .3rem;font-weight:600}\
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;\
padding:.6rem;border:1px solid #bbb;border-radius:6px;font-size:1rem}\
button{margin-top:1.2rem;padding:.6rem 1.2rem;font-size:1rem;border-radius:6px;border:0;\
background:#563acc;color:#fff;cursor:pointer}button.secondary{background:#ddd;color:#222}\
.error{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:6px}\
code#code{display:block;font-size:1.1rem;padding:1rem;background:#eee;border-radius:6px;\
word-break:break-all;user-select:all}ul{padding-left:1.2rem}";

pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    response
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Error",
        &format!(
            "<h1>Something is not right</h1><p class=\"error\">{}</p>",
            escape(message)
        ),
    )
}

pub fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

/// The value of cookie `name`, if the request has it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` for a browser-only cookie (HttpOnly, SameSite=Lax, Secure on https).
pub fn set_cookie(
    response: &mut Response,
    name: &str,
    value: &str,
    max_age_secs: i64,
    secure: bool,
) {
    let cookie = format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}
