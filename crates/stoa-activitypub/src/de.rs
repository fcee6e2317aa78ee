//! Lenient deserialisation helpers shared by the wire types.
//!
//! Each one exists because some server sends a shape that a plain serde
//! derive would reject, and rejecting the whole document over a cosmetic
//! field would cost us the post or the actor.

use chrono::{DateTime, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `null` means "absent": Pleroma sends `"sensitive": null`, Misskey sends
/// `"name": null`, and both mean the default.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A time stamp that is `None` unless it is a valid RFC 3339 string.
///
/// Time stamps are informational for us (ordering, display). Some servers
/// send `"closed": true` on polls or local times without an offset; losing
/// the time is better than losing the document.
pub(crate) fn lenient_datetime<'de, D>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(value
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc)))
}

/// A pixel size that is `None` unless it is a non-negative number.
///
/// Sizes only help layout; a float (`1600.0`) is rounded and anything else
/// is dropped, so an odd size never costs us the attachment.
pub(crate) fn lenient_dimension<'de, D>(deserializer: D) -> Result<Option<u32>, D::Error>
where
    D: Deserializer<'de>,
{
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(value.as_ref().and_then(Value::as_f64).and_then(|size| {
        let size = size.round();
        // The range is checked first, so the cast cannot truncate.
        (0.0..=f64::from(u32::MAX))
            .contains(&size)
            .then_some(size as u32)
    }))
}

/// The names in a `type` property, which JSON-LD allows to be a string or an
/// array of strings (non-string entries are skipped).
pub(crate) fn type_names<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
{
    match Value::deserialize(deserializer)? {
        Value::String(name) => Ok(vec![name]),
        Value::Array(items) => Ok(items
            .into_iter()
            .filter_map(|item| match item {
                Value::String(name) => Some(name),
                _ => None,
            })
            .collect()),
        other => Err(D::Error::custom(format!(
            "`type` must be a string or an array of strings, found {other}"
        ))),
    }
}

/// The names in the `type` property of a raw JSON object, in order.
pub(crate) fn type_names_of(value: &Value) -> Vec<&str> {
    match value.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}
