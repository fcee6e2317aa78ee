//! The one error type of the HTTP API, rendered as Mastodon renders errors:
//! `{"error": "...", "error_description"?: "..."}` with Mastodon's status codes.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Boxed so that `Result<T, ApiError>` stays small on the happy path.
#[derive(Debug)]
pub struct ApiError(Box<ErrorBody>);

#[derive(Debug)]
pub struct ErrorBody {
    pub status: StatusCode,
    pub error: String,
    pub description: Option<String>,
    /// Extra JSON members (e.g. `details` of a failed registration).
    pub extra: Option<serde_json::Value>,
    pub headers: HeaderMap,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> ApiError {
        ApiError(Box::new(ErrorBody {
            status,
            error: error.into(),
            description: None,
            extra: None,
            headers: HeaderMap::new(),
        }))
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// Also the answer for things that exist but the caller may not see.
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "Record not found")
    }

    pub fn invalid_token() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "The access token is invalid")
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_allowed() -> ApiError {
        ApiError::forbidden("This action is not allowed")
    }

    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// An OAuth error as RFC 6749 §5.2 spells them.
    pub fn oauth(status: StatusCode, error: &str, description: &str) -> ApiError {
        let mut err = ApiError::new(status, error);
        err.0.description = Some(description.to_owned());
        err
    }

    pub fn with_extra(mut self, extra: serde_json::Value) -> ApiError {
        self.0.extra = Some(extra);
        self
    }

    /// The message shown to the client.
    pub fn message(&self) -> &str {
        &self.0.error
    }

    /// Log the cause, tell the client nothing about internals.
    #[track_caller]
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        let location = std::panic::Location::caller();
        tracing::error!(error.message = %cause, %location, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.error)?;
        if let Some(description) = &self.0.description {
            write!(f, ": {description}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<stoa_db::Error> for ApiError {
    #[track_caller]
    fn from(err: stoa_db::Error) -> ApiError {
        match err {
            stoa_db::Error::Conflict(what) => {
                ApiError::unprocessable(format!("Validation failed: {what} is already taken"))
            }
            other => ApiError::internal(&other),
        }
    }
}

impl From<crate::params::ParamsError> for ApiError {
    fn from(err: crate::params::ParamsError) -> ApiError {
        ApiError::bad_request(err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ErrorBody {
            status,
            error,
            description,
            extra,
            headers,
        } = *self.0;
        let mut body = json!({ "error": error });
        if let Some(description) = description {
            body["error_description"] = json!(description);
        }
        if let (Some(serde_json::Value::Object(extra)), Some(object)) =
            (extra, body.as_object_mut())
        {
            object.extend(extra);
        }
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().extend(headers);
        response
    }
}
