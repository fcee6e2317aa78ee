//! `Params<T>`: a handler's parameters from wherever the client put them.
//!
//! Mastodon clients send the same parameters as a query string, a urlencoded
//! form, JSON or multipart, with Rails bracket keys and booleans spelled in
//! several ways (see `params`). All of it is merged into one JSON object
//! (body over query) and deserialised leniently into `T`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;
use crate::params;

pub struct Params<T>(pub T);

/// Like `Params`, also keeping the files of a multipart body by field name
/// (avatars and headers of `update_credentials`).
pub struct ParamsWithFiles<T>(pub T, pub Files);

/// Uploaded files by field name. Their client-given names and types are not kept.
#[derive(Default)]
pub struct Files(Vec<(String, Bytes)>);

impl Files {
    pub fn take(&mut self, name: &str) -> Option<Bytes> {
        let index = self.0.iter().position(|(field, _)| field == name)?;
        Some(self.0.swap_remove(index).1)
    }
}

/// Largest text field of a multipart body.
const MAX_MULTIPART_FIELD: usize = 64 * 1024;

impl<S, T> FromRequest<S> for Params<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let ParamsWithFiles(params, _) = ParamsWithFiles::from_request(request, state).await?;
        Ok(Params(params))
    }
}

impl<S, T> FromRequest<S> for ParamsWithFiles<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let mut merged = match request.uri().query() {
            Some(query) => params::parse_urlencoded(query)?,
            None => Value::Object(Default::default()),
        };
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut files = Files::default();
        let body = if content_type.starts_with("multipart/form-data") {
            let (fields, uploaded) = read_multipart(request, state).await?;
            files = uploaded;
            Some(fields)
        } else {
            let bytes = Bytes::from_request(request, state)
                .await
                .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                None
            } else if content_type.starts_with("application/json") || content_type.contains("+json")
            {
                let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                    ApiError::bad_request(format!("Invalid JSON in request body: {e}"))
                })?;
                if !value.is_object() {
                    return Err(ApiError::bad_request(
                        "The request body must be a JSON object",
                    ));
                }
                Some(value)
            } else {
                // Form bodies, and clients that send a form without a content type.
                let text = std::str::from_utf8(&bytes)
                    .map_err(|_| ApiError::bad_request("The request body is not UTF-8"))?;
                Some(params::parse_urlencoded(text)?)
            }
        };
        if let Some(body) = body {
            params::merge(&mut merged, body);
        }
        Ok(ParamsWithFiles(params::from_value(merged)?, files))
    }
}

async fn read_multipart<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<(Value, Files), ApiError> {
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut object = serde_json::Map::new();
    let mut files = Files::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::new(e.status(), e.body_text()))?
    {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        let is_file = field.file_name().is_some();
        // The body limit of the route bounds what a field may hold.
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        if is_file {
            if files.0.len() >= 8 {
                return Err(ApiError::bad_request("Too many files"));
            }
            files.0.push((name, bytes));
            continue;
        }
        if bytes.len() > MAX_MULTIPART_FIELD {
            return Err(ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                format!("Field {name} is too large"),
            ));
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        params::insert_pair(&mut object, &name, Value::String(text))?;
    }
    Ok((Value::Object(object), files))
}

/// Parameters from the query string only. Unlike `Params`, it can appear
/// several times in one handler (paging plus filters).
pub struct QueryParams<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        let value = match parts.uri.query() {
            Some(query) => params::parse_urlencoded(query)?,
            None => Value::Object(Default::default()),
        };
        Ok(QueryParams(params::from_value(value)?))
    }
}
