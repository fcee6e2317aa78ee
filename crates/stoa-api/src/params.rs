//! Request parameter normalisation.
//!
//! Mastodon clients send parameters as query strings, urlencoded forms,
//! multipart forms and JSON bodies, using Rails conventions such as bracket
//! keys (`source[privacy]=public`, `media_ids[]=1`) and loosely typed scalars
//! (`"1"`, `"True"`, `"on"` for booleans; `"20"` for numbers). Everything is
//! first normalised into one [`serde_json::Value`] object, which
//! [`from_value`] then deserializes into a handler's typed struct with lenient
//! scalar handling.

use std::fmt;

use percent_encoding::percent_decode_str;
use serde::de::value::StringDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Value};

/// Most `key=value` pairs accepted in one urlencoded input.
const MAX_PAIRS: usize = 1000;
/// Most bracket segments accepted after a key's name (`a[b][c]` has two).
const MAX_DEPTH: usize = 8;
/// Longest key quoted back in an error message.
const MAX_SHOWN_KEY: usize = 64;

/// Error when input cannot be turned into parameters; the message is shown
/// to clients, so keep it human-readable.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    #[error("{0}")]
    Invalid(String),
}

/// Parse an `application/x-www-form-urlencoded` string (also used for query
/// strings) into a JSON object, applying Rails bracket nesting.
///
/// `a[b][c]=1` gives `{"a":{"b":{"c":"1"}}}`, `a[]=1&a[]=2` gives
/// `{"a":["1","2"]}` and `a[0][x]=1` gives `{"a":{"0":{"x":"1"}}}`. A repeated
/// plain key keeps its last value, `+` is a space, percent-decoding is
/// lossy UTF-8 (malformed escapes are kept as they are) and a key without `=`
/// gets `""`. More than 1000 pairs, or more than 8 bracket levels in a key,
/// is an error.
pub fn parse_urlencoded(input: &str) -> Result<Value, ParamsError> {
    let mut map = Map::new();
    let mut pairs = 0usize;
    for pair in input.split('&').filter(|pair| !pair.is_empty()) {
        pairs += 1;
        if pairs > MAX_PAIRS {
            return Err(ParamsError::Invalid(format!(
                "too many parameters (at most {MAX_PAIRS} are accepted)"
            )));
        }
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        insert_pair(&mut map, &decode(key), Value::String(decode(value)))?;
    }
    Ok(Value::Object(map))
}

/// Insert one `(key, value)` pair into `target`, applying Rails bracket
/// nesting to `key` (also used for multipart text fields).
///
/// `a[b]` nests into objects, `a[]` appends to an array and `a[][x]` fills
/// the array's last object until `x` repeats. A key whose brackets are not
/// well formed (`a[b`, `[x]`, `a[b]c`) is taken literally. A key nested more
/// than 8 levels deep, or one that conflicts with the shape of an earlier
/// parameter (`a=1&a[b]=2`), is an error and leaves `target` unchanged.
pub fn insert_pair(
    target: &mut Map<String, Value>,
    key: &str,
    value: Value,
) -> Result<(), ParamsError> {
    let (root, segments) = split_key(key)?;
    if segments.is_empty() {
        target.insert(root.to_owned(), value);
        return Ok(());
    }
    // A slot created here is filled by `insert_into` before anything can fail
    // (failures only happen on slots that already existed), so an error never
    // leaves a stray `null` behind.
    let slot = target.entry(root).or_insert(Value::Null);
    insert_into(slot, &segments, value, key)
}

/// Merge `overlay` into `base`: keys of `overlay` win, and objects present on
/// both sides are merged recursively. Used to combine the query string with
/// the body. A `null` overlay (no body) leaves `base` as it is; any other
/// non-object on either side makes `overlay` replace `base`.
pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (_, Value::Null) => {}
        (Value::Object(base), Value::Object(overlay)) => merge_maps(base, overlay),
        (base, overlay) => *base = overlay,
    }
}

/// Deserialize a normalised value into `T` with lenient scalars.
///
/// Strings are accepted where `T` wants booleans or numbers, numbers and
/// booleans where it wants strings, a single scalar where it wants a
/// sequence, and objects with numeric keys where it wants a sequence
/// (ordered by key). Unknown fields are ignored. Errors name the field, as
/// in `limit: invalid integer` or `fields_attributes[0][name]: expected a
/// string`.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ParamsError> {
    T::deserialize(Lenient(value)).map_err(|error| ParamsError::Invalid(error.to_string()))
}

// ---------------------------------------------------------------------------
// urlencoded parsing and bracket nesting

fn decode(raw: &str) -> String {
    if raw.contains('+') {
        percent_decode_str(&raw.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    } else {
        percent_decode_str(raw).decode_utf8_lossy().into_owned()
    }
}

/// One bracket segment of a key: `[name]` or `[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    Key(&'a str),
    Push,
}

/// Split `a[b][]` into `("a", [Key("b"), Push])`. Malformed bracket syntax
/// gives the whole key with no segments.
fn split_key(key: &str) -> Result<(&str, Vec<Segment<'_>>), ParamsError> {
    let literal = (key, Vec::new());
    let Some(open) = key.find('[') else {
        return Ok(literal);
    };
    if open == 0 {
        return Ok(literal);
    }
    let root = &key[..open];
    let mut rest = &key[open..];
    let mut segments = Vec::new();
    while !rest.is_empty() {
        let Some(after_open) = rest.strip_prefix('[') else {
            return Ok(literal);
        };
        let Some(close) = after_open.find(']') else {
            return Ok(literal);
        };
        let inner = &after_open[..close];
        if inner.contains('[') {
            return Ok(literal);
        }
        if segments.len() == MAX_DEPTH {
            return Err(ParamsError::Invalid(format!(
                "parameter `{}` is nested too deeply (at most {MAX_DEPTH} levels)",
                shown(root)
            )));
        }
        segments.push(if inner.is_empty() {
            Segment::Push
        } else {
            Segment::Key(inner)
        });
        rest = &after_open[close + 1..];
    }
    Ok((root, segments))
}

fn insert_into(
    slot: &mut Value,
    segments: &[Segment<'_>],
    value: Value,
    key: &str,
) -> Result<(), ParamsError> {
    let Some((first, rest)) = segments.split_first() else {
        *slot = value;
        return Ok(());
    };
    if slot.is_null() {
        *slot = match first {
            Segment::Key(_) => Value::Object(Map::new()),
            Segment::Push => Value::Array(Vec::new()),
        };
    }
    match (first, slot) {
        (Segment::Key(name), Value::Object(map)) => {
            let child = map.entry(*name).or_insert(Value::Null);
            insert_into(child, rest, value, key)
        }
        (Segment::Push, Value::Array(items)) => {
            if rest.is_empty() {
                items.push(value);
                return Ok(());
            }
            // Rails: `a[][x]=1&a[][y]=2` builds one element until a key
            // repeats, then starts the next one.
            let reuse_last = matches!(
                items.last(),
                Some(last @ Value::Object(_)) if !has_path(last, rest)
            );
            if !reuse_last {
                items.push(Value::Null);
            }
            match items.last_mut() {
                Some(last) => insert_into(last, rest, value, key),
                None => Err(conflict(key, "an array")),
            }
        }
        (Segment::Key(_), _) => Err(conflict(key, "an object")),
        (Segment::Push, _) => Err(conflict(key, "an array")),
    }
}

/// Whether every key of `segments` is already present under `value`. A `[]`
/// segment never counts as present.
fn has_path(value: &Value, segments: &[Segment<'_>]) -> bool {
    let mut current = value;
    for segment in segments {
        match segment {
            Segment::Push => return false,
            Segment::Key(name) => match current.get(*name) {
                Some(next) => current = next,
                None => return false,
            },
        }
    }
    true
}

fn conflict(key: &str, expected: &str) -> ParamsError {
    ParamsError::Invalid(format!(
        "parameter `{}` conflicts with another parameter of the same name (expected {expected})",
        shown(key)
    ))
}

/// `key`, cut short for quoting in an error message.
fn shown(key: &str) -> String {
    if key.chars().count() <= MAX_SHOWN_KEY {
        key.to_owned()
    } else {
        let mut cut: String = key.chars().take(MAX_SHOWN_KEY).collect();
        cut.push('…');
        cut
    }
}

fn merge_maps(base: &mut Map<String, Value>, overlay: Map<String, Value>) {
    for (key, value) in overlay {
        match value {
            Value::Object(inner) => match base.get_mut(&key) {
                Some(Value::Object(existing)) => merge_maps(existing, inner),
                _ => {
                    base.insert(key, Value::Object(inner));
                }
            },
            other => {
                base.insert(key, other);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Lenient deserializer

/// Error of the lenient deserializer: a message and the path of the field
/// it concerns.
#[derive(Debug)]
struct DeError {
    /// Field names and indexes, innermost first.
    path: Vec<String>,
    message: String,
}

impl DeError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            path: Vec::new(),
            message: message.into(),
        }
    }

    fn json(error: serde_json::Error) -> Self {
        Self::new(error.to_string())
    }

    fn within(mut self, segment: &str) -> Self {
        self.path.push(segment.to_owned());
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut segments = self.path.iter().rev();
        if let Some(first) = segments.next() {
            f.write_str(first)?;
            for segment in segments {
                write!(f, "[{segment}]")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::new(message.to_string())
    }
}

/// A `serde::Deserializer` over a [`Value`] that casts scalars the way Rails
/// does.
struct Lenient(Value);

impl Lenient {
    /// The value as an integer, from a JSON integer or a decimal string.
    fn integer(&self) -> Result<i128, DeError> {
        match &self.0 {
            Value::Number(number) => {
                if let Some(n) = number.as_i64() {
                    Ok(i128::from(n))
                } else if let Some(n) = number.as_u64() {
                    Ok(i128::from(n))
                } else {
                    Err(DeError::new("invalid integer"))
                }
            }
            Value::String(text) => {
                let text = text.trim();
                let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(DeError::new("invalid integer"));
                }
                text.parse::<i128>()
                    .map_err(|_| DeError::new("integer out of range"))
            }
            _ => Err(DeError::new("expected an integer")),
        }
    }

    fn float(&self) -> Result<f64, DeError> {
        let parsed = match &self.0 {
            Value::Number(number) => number.as_f64(),
            Value::String(text) => text.trim().parse::<f64>().ok(),
            _ => return Err(DeError::new("expected a number")),
        };
        match parsed {
            Some(n) if n.is_finite() => Ok(n),
            _ => Err(DeError::new("invalid number")),
        }
    }

    /// The value as text, for string-like targets.
    fn text(self) -> Result<String, DeError> {
        match self.0 {
            Value::String(text) => Ok(text),
            Value::Number(number) => Ok(number.to_string()),
            Value::Bool(flag) => Ok(flag.to_string()),
            _ => Err(DeError::new("expected a string")),
        }
    }
}

fn cast_bool(text: &str) -> bool {
    let text = text.trim();
    !["false", "0", "off", "no", "f", ""]
        .iter()
        .any(|falsy| text.eq_ignore_ascii_case(falsy))
}

macro_rules! lenient_integer {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
                let n = <$ty>::try_from(self.integer()?)
                    .map_err(|_| DeError::new("integer out of range"))?;
                visitor.$visit(n)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Lenient {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.0.deserialize_any(visitor).map_err(DeError::json)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let flag = match &self.0 {
            Value::Bool(flag) => *flag,
            Value::String(text) => cast_bool(text),
            Value::Number(number) => {
                !(number.as_u64() == Some(0)
                    || number.as_i64() == Some(0)
                    || number.as_f64() == Some(0.0))
            }
            _ => return Err(DeError::new("expected a boolean")),
        };
        visitor.visit_bool(flag)
    }

    lenient_integer! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_i128 => i128, visit_i128;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_u128 => u128, visit_u128;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let n = self.float()?;
        if n.abs() > f64::from(f32::MAX) {
            return Err(DeError::new("number out of range"));
        }
        visitor.visit_f32(n as f32)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_f64(self.float()?)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.text()?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => visitor.visit_char(c),
            _ => Err(DeError::new("expected a single character")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_string(self.text()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_string(self.text()?)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Array(_) => self.0.deserialize_byte_buf(visitor).map_err(DeError::json),
            other => visitor.visit_byte_buf(Lenient(other).text()?.into_bytes()),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Lenient(other)),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::String(text) if text.is_empty() => visitor.visit_unit(),
            _ => Err(DeError::new("expected no value")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let items: Vec<(Option<String>, Value)> = match self.0 {
            Value::Array(items) => items.into_iter().map(|item| (None, item)).collect(),
            Value::Object(map) => {
                let mut keyed = Vec::with_capacity(map.len());
                for (key, item) in map {
                    match key.parse::<usize>() {
                        Ok(index) => keyed.push((index, key, item)),
                        Err(_) => return Err(DeError::new("expected an array")),
                    }
                }
                keyed.sort_by_key(|(index, _, _)| *index);
                keyed
                    .into_iter()
                    .map(|(_, key, item)| (Some(key), item))
                    .collect()
            }
            Value::Null => Vec::new(),
            scalar => vec![(None, scalar)],
        };
        let mut access = SeqItems {
            items: items.into_iter(),
            index: 0,
        };
        let result = visitor.visit_seq(&mut access)?;
        if access.items.len() == 0 {
            Ok(result)
        } else {
            Err(DeError::new("too many items"))
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(MapEntries::new(map.into_iter().collect())),
            _ => Err(DeError::new("expected an object")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.0 {
            // Unknown fields are dropped here so that even a struct marked
            // `deny_unknown_fields` accepts whatever else clients send.
            // (Derived `fields` lists include aliases; an empty list is left
            // alone in case a hand-written impl does not fill it in.)
            Value::Object(map) => {
                let entries = map
                    .into_iter()
                    .filter(|(key, _)| fields.is_empty() || fields.contains(&key.as_str()))
                    .collect();
                visitor.visit_map(MapEntries::new(entries))
            }
            _ => Err(DeError::new("expected an object")),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Object(_) => self
                .0
                .deserialize_enum(name, variants, visitor)
                .map_err(DeError::json),
            other => {
                let variant: StringDeserializer<DeError> =
                    Lenient(other).text()?.into_deserializer();
                visitor.visit_enum(variant)
            }
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

/// Sequence access over array items (labelled by index) or numeric-keyed
/// object entries (labelled by their key).
struct SeqItems {
    items: std::vec::IntoIter<(Option<String>, Value)>,
    index: usize,
}

impl<'de> SeqAccess<'de> for SeqItems {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some((label, item)) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        seed.deserialize(Lenient(item))
            .map(Some)
            .map_err(|error| match label {
                Some(key) => error.within(&key),
                None => error.within(&index.to_string()),
            })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// Map access over object entries; values are deserialized leniently and
/// their errors are prefixed with the key.
struct MapEntries {
    entries: std::vec::IntoIter<(String, Value)>,
    pending: Option<(String, Value)>,
}

impl MapEntries {
    fn new(entries: Vec<(String, Value)>) -> Self {
        Self {
            entries: entries.into_iter(),
            pending: None,
        }
    }
}

impl<'de> MapAccess<'de> for MapEntries {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        let parsed = seed
            .deserialize(Lenient(Value::String(key.clone())))
            .map_err(|error| error.within(&key))?;
        self.pending = Some((key, value));
        Ok(Some(parsed))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        match self.pending.take() {
            Some((key, value)) => seed
                .deserialize(Lenient(value))
                .map_err(|error| error.within(&key)),
            None => Err(DeError::new("value requested before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() + usize::from(self.pending.is_some()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    fn parse(input: &str) -> Value {
        match parse_urlencoded(input) {
            Ok(value) => value,
            Err(error) => panic!("{input:?} failed to parse: {error}"),
        }
    }

    fn error_message<T: DeserializeOwned + fmt::Debug>(value: Value) -> String {
        match from_value::<T>(value.clone()) {
            Ok(parsed) => panic!("{value} unexpectedly gave {parsed:?}"),
            Err(ParamsError::Invalid(message)) => message,
        }
    }

    #[test]
    fn parses_rails_style_forms() {
        let cases: &[(&str, Value)] = &[
            ("", json!({})),
            ("&&", json!({})),
            ("limit=20", json!({"limit": "20"})),
            (
                "source[privacy]=public",
                json!({"source": {"privacy": "public"}}),
            ),
            ("a[b][c]=1", json!({"a": {"b": {"c": "1"}}})),
            ("a[]=1&a[]=2", json!({"a": ["1", "2"]})),
            (
                "media_ids[]=1&media_ids[]=2",
                json!({"media_ids": ["1", "2"]}),
            ),
            ("types[]=mention", json!({"types": ["mention"]})),
            ("id[]=5", json!({"id": ["5"]})),
            (
                "home[last_read_id]=3",
                json!({"home": {"last_read_id": "3"}}),
            ),
            (
                "data[alerts][mention]=true&data[alerts][follow]=false&data[policy]=all",
                json!({"data": {"alerts": {"mention": "true", "follow": "false"}, "policy": "all"}}),
            ),
            (
                "poll[options][]=a&poll[options][]=b&poll[expires_in]=300",
                json!({"poll": {"options": ["a", "b"], "expires_in": "300"}}),
            ),
            (
                "fields_attributes[0][name]=x&fields_attributes[0][value]=y",
                json!({"fields_attributes": {"0": {"name": "x", "value": "y"}}}),
            ),
            (
                "a[0][x]=1&a[1][x]=2",
                json!({"a": {"0": {"x": "1"}, "1": {"x": "2"}}}),
            ),
            (
                "a[][x]=1&a[][y]=2&a[][x]=3",
                json!({"a": [{"x": "1", "y": "2"}, {"x": "3"}]}),
            ),
            ("a[][]=1&a[][]=2", json!({"a": [["1"], ["2"]]})),
            ("a=1&a=2", json!({"a": "2"})),
            ("a[b]=1&a=2", json!({"a": "2"})),
            ("status=hello+world", json!({"status": "hello world"})),
            ("status=1%2B1%3D2", json!({"status": "1+1=2"})),
            ("q=caf%C3%A9", json!({"q": "café"})),
            ("q=%FF%FE", json!({"q": "\u{FFFD}\u{FFFD}"})),
            ("%ZZ", json!({"%ZZ": ""})),
            ("q=100%", json!({"q": "100%"})),
            ("pinned", json!({"pinned": ""})),
            ("a=b=c", json!({"a": "b=c"})),
            ("source%5Bnote%5D=hi", json!({"source": {"note": "hi"}})),
            ("a[b=1", json!({"a[b": "1"})),
            ("a]=1", json!({"a]": "1"})),
            ("[]=1", json!({"[]": "1"})),
            ("[x]=1", json!({"[x]": "1"})),
            ("a[b]c=1", json!({"a[b]c": "1"})),
            ("a[[b]]=1", json!({"a[[b]]": "1"})),
            ("=1", json!({"": "1"})),
        ];
        for (input, expected) in cases {
            assert_eq!(&parse(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn rejects_bad_forms() {
        let deep = format!("a{}=1", "[a]".repeat(50));
        let many = vec!["a=1"; 10_000].join("&");
        let cases: &[(&str, &str)] = &[
            (&deep, "nested too deeply"),
            (&many, "too many parameters"),
            ("a=1&a[b]=2", "parameter `a[b]` conflicts"),
            ("a=1&a[]=2", "expected an array"),
            ("a[b]=1&a[]=2", "expected an array"),
            ("a[]=1&a[b]=2", "expected an object"),
        ];
        for (input, expected) in cases {
            match parse_urlencoded(input) {
                Ok(value) => panic!("{input:?} unexpectedly parsed to {value}"),
                Err(ParamsError::Invalid(message)) => {
                    assert!(message.contains(expected), "{input:?}: {message}");
                    assert!(message.len() < 200, "{input:?}: message too long");
                }
            }
        }
    }

    #[test]
    fn limits_are_inclusive() {
        let eight = format!("a{}=1", "[a]".repeat(8));
        assert!(parse_urlencoded(&eight).is_ok());
        let nine = format!("a{}=1", "[a]".repeat(9));
        assert!(parse_urlencoded(&nine).is_err());
        let thousand = vec!["a[]=1"; 1000].join("&");
        assert_eq!(parse(&thousand)["a"].as_array().map(Vec::len), Some(1000));
        let thousand_and_one = vec!["a[]=1"; 1001].join("&");
        assert!(parse_urlencoded(&thousand_and_one).is_err());
    }

    #[test]
    fn insert_pair_nests_and_leaves_target_alone_on_error() {
        let mut map = Map::new();
        let pairs = [
            ("status", json!("hi")),
            ("poll[options][]", json!("a")),
            ("poll[options][]", json!("b")),
            ("media_ids[]", json!("7")),
        ];
        for (key, value) in pairs {
            insert_pair(&mut map, key, value).expect("insert");
        }
        let expected = json!({
            "status": "hi",
            "poll": {"options": ["a", "b"]},
            "media_ids": ["7"],
        });
        assert_eq!(Value::Object(map.clone()), expected);
        assert!(insert_pair(&mut map, "status[x][y]", json!("1")).is_err());
        assert!(insert_pair(&mut map, "poll[options][x]", json!("1")).is_err());
        assert_eq!(Value::Object(map), expected);
    }

    #[test]
    fn merge_prefers_overlay() {
        let cases: &[(Value, Value, Value)] = &[
            (
                json!({"a": "1"}),
                json!({"b": "2"}),
                json!({"a": "1", "b": "2"}),
            ),
            (json!({"a": "1"}), json!({"a": 2}), json!({"a": 2})),
            (
                json!({"a": {"x": "1", "y": "1"}}),
                json!({"a": {"y": "2"}}),
                json!({"a": {"x": "1", "y": "2"}}),
            ),
            (
                json!({"a": {"x": "1"}}),
                json!({"a": "s"}),
                json!({"a": "s"}),
            ),
            (json!({"a": "1"}), json!({"a": null}), json!({"a": null})),
            (json!({"a": "1"}), Value::Null, json!({"a": "1"})),
            (Value::Null, json!({"a": "1"}), json!({"a": "1"})),
            (json!({"a": "1"}), json!([1]), json!([1])),
        ];
        for (base, overlay, expected) in cases {
            let mut merged = base.clone();
            merge(&mut merged, overlay.clone());
            assert_eq!(&merged, expected, "{base} + {overlay}");
        }
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Credentials {
        discoverable: Option<bool>,
        limit: Option<u32>,
        #[serde(default)]
        media_ids: Vec<String>,
        source: Option<Source>,
        fields_attributes: Option<Vec<Field>>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Source {
        privacy: Option<String>,
        sensitive: Option<bool>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Field {
        name: String,
        value: String,
    }

    #[test]
    fn same_struct_from_form_and_json() {
        let expected = Credentials {
            discoverable: Some(true),
            limit: Some(20),
            media_ids: vec!["1".into(), "2".into()],
            source: Some(Source {
                privacy: Some("public".into()),
                sensitive: Some(false),
            }),
            fields_attributes: Some(vec![
                Field {
                    name: "a".into(),
                    value: "1".into(),
                },
                Field {
                    name: "b".into(),
                    value: "2".into(),
                },
            ]),
        };
        let form = "discoverable=1&limit=20&media_ids[]=1&media_ids[]=2\
            &source[privacy]=public&source[sensitive]=0\
            &fields_attributes[1][name]=b&fields_attributes[1][value]=2\
            &fields_attributes[0][name]=a&fields_attributes[0][value]=1&unknown=x";
        let inputs = [
            parse(form),
            json!({
                "discoverable": true,
                "limit": 20,
                "media_ids": ["1", "2"],
                "source": {"privacy": "public", "sensitive": false},
                "fields_attributes": [{"name": "a", "value": "1"}, {"name": "b", "value": 2}],
                "unknown": {"nested": [1, 2]},
            }),
            json!({
                "discoverable": "1",
                "limit": "20",
                "media_ids": [1, 2],
                "source": {"privacy": "public", "sensitive": "0"},
                "fields_attributes": {"10": {"name": "b", "value": "2"}, "2": {"name": "a", "value": "1"}},
            }),
        ];
        for input in inputs {
            let parsed: Credentials = from_value(input.clone()).expect("deserialize");
            assert_eq!(parsed, expected, "input {input}");
        }
    }

    #[test]
    fn missing_and_null_fields_are_none() {
        let expected = Credentials {
            discoverable: None,
            limit: None,
            media_ids: vec![],
            source: None,
            fields_attributes: None,
        };
        for input in [
            json!({}),
            json!({"discoverable": null, "limit": null, "source": null}),
        ] {
            let parsed: Credentials = from_value(input).expect("deserialize");
            assert_eq!(parsed, expected);
        }
    }

    #[derive(Debug, Deserialize)]
    struct Flag {
        flag: bool,
    }

    #[test]
    fn lenient_booleans() {
        let cases: &[(Value, bool)] = &[
            (json!(true), true),
            (json!(false), false),
            (json!("true"), true),
            (json!("1"), true),
            (json!("on"), true),
            (json!("yes"), true),
            (json!("True"), true),
            (json!("TRUE"), true),
            (json!("t"), true),
            (json!("whatever"), true),
            (json!("false"), false),
            (json!("0"), false),
            (json!("off"), false),
            (json!("no"), false),
            (json!("False"), false),
            (json!("FALSE"), false),
            (json!("f"), false),
            (json!(""), false),
            (json!(" 0 "), false),
            (json!(0), false),
            (json!(0.0), false),
            (json!(1), true),
            (json!(-3), true),
        ];
        for (input, expected) in cases {
            let parsed: Flag = from_value(json!({"flag": input})).expect("bool");
            assert_eq!(parsed.flag, *expected, "input {input}");
        }
        for input in [json!(null), json!([]), json!({})] {
            let message = error_message::<Flag>(json!({"flag": input}));
            assert!(message.starts_with("flag: "), "{message}");
        }
        assert!(error_message::<Flag>(json!({})).contains("missing field `flag`"));
    }

    #[test]
    fn client_quirks() {
        #[derive(Debug, Deserialize)]
        struct StatusParams {
            sensitive: Option<bool>,
            exclude_replies: Option<bool>,
            in_reply_to_id: Option<String>,
        }
        let python: StatusParams =
            from_value(json!({"sensitive": "1", "in_reply_to_id": 109_876_543_210_u64}))
                .expect("Mastodon.py body");
        assert_eq!(python.sensitive, Some(true));
        assert_eq!(python.in_reply_to_id.as_deref(), Some("109876543210"));
        let toot: StatusParams =
            from_value(parse("exclude_replies=True&sensitive=False")).expect("toot query");
        assert_eq!(toot.exclude_replies, Some(true));
        assert_eq!(toot.sensitive, Some(false));
    }

    #[derive(Debug, Deserialize)]
    struct Numbers {
        limit: Option<u32>,
        offset: Option<i64>,
        small: Option<i8>,
        ratio: Option<f64>,
        narrow: Option<f32>,
    }

    #[test]
    fn lenient_numbers() {
        let ok: Numbers = from_value(json!({
            "limit": " 40 ",
            "offset": "-5",
            "small": 127,
            "ratio": "0.25",
            "narrow": 1.5,
        }))
        .expect("numbers");
        assert_eq!(ok.limit, Some(40));
        assert_eq!(ok.offset, Some(-5));
        assert_eq!(ok.small, Some(127));
        assert_eq!(ok.ratio, Some(0.25));
        assert_eq!(ok.narrow, Some(1.5));

        let errors: &[(Value, &str)] = &[
            (json!({"limit": "abc"}), "limit: invalid integer"),
            (json!({"limit": "20.0"}), "limit: invalid integer"),
            (json!({"limit": 20.5}), "limit: invalid integer"),
            (json!({"limit": ""}), "limit: invalid integer"),
            (json!({"limit": "-1"}), "limit: integer out of range"),
            (json!({"limit": -1}), "limit: integer out of range"),
            (
                json!({"limit": "99999999999"}),
                "limit: integer out of range",
            ),
            (
                json!({"offset": "9".repeat(60)}),
                "offset: integer out of range",
            ),
            (json!({"small": "128"}), "small: integer out of range"),
            (json!({"limit": ["1"]}), "limit: expected an integer"),
            (json!({"ratio": "NaN"}), "ratio: invalid number"),
            (json!({"ratio": "x"}), "ratio: invalid number"),
            (json!({"narrow": "1e300"}), "narrow: number out of range"),
        ];
        for (input, expected) in errors {
            assert_eq!(&error_message::<Numbers>(input.clone()), expected);
        }
        let form_error = error_message::<Numbers>(parse("limit=abc"));
        assert!(form_error.contains("limit"), "{form_error}");
    }

    #[test]
    fn sequences() {
        #[derive(Debug, Deserialize)]
        struct Ids {
            id: Vec<String>,
        }
        #[derive(Debug, Deserialize)]
        struct NumericIds {
            id: Vec<u64>,
        }
        let cases: &[(Value, &[&str])] = &[
            (parse("id[]=5"), &["5"]),
            (parse("id=5"), &["5"]),
            (parse("id[]=5&id[]=6"), &["5", "6"]),
            (parse("id[1]=b&id[0]=a"), &["a", "b"]),
            (json!({"id": 5}), &["5"]),
            (json!({"id": []}), &[]),
            (json!({"id": {}}), &[]),
            (json!({"id": null}), &[]),
        ];
        for (input, expected) in cases {
            let ids: Ids = from_value(input.clone()).expect("ids");
            assert_eq!(ids.id, *expected, "input {input}");
        }
        let numeric: NumericIds = from_value(parse("id[]=5&id[]=6")).expect("numeric ids");
        assert_eq!(numeric.id, [5, 6]);
        assert_eq!(
            error_message::<NumericIds>(parse("id[]=5&id[]=x")),
            "id[1]: invalid integer"
        );
        assert_eq!(
            error_message::<Ids>(json!({"id": {"a": "1"}})),
            "id: expected an array"
        );
    }

    #[test]
    fn error_paths_name_nested_fields() {
        let cases: &[(Value, &str)] = &[
            (
                json!({"source": {"privacy": {"a": 1}}}),
                "source[privacy]: expected a string",
            ),
            (
                parse("fields_attributes[0][name]=a&fields_attributes[0][value]=1&fields_attributes[1][name]=b"),
                "fields_attributes[1]: missing field `value`",
            ),
            (
                json!({"fields_attributes": [{"name": "a", "value": []}]}),
                "fields_attributes[0][value]: expected a string",
            ),
            (json!({"limit": "x"}), "limit: invalid integer"),
            (json!({"source": "public"}), "source: expected an object"),
            (json!("text"), "expected an object"),
        ];
        for (input, expected) in cases {
            assert_eq!(&error_message::<Credentials>(input.clone()), expected);
        }
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Visibility {
        Public,
        Unlisted,
        Private,
        Direct,
    }

    #[test]
    fn enums_from_strings() {
        #[derive(Debug, Deserialize)]
        struct Post {
            visibility: Option<Visibility>,
            #[serde(default)]
            types: Vec<Visibility>,
        }
        let post: Post =
            from_value(parse("visibility=unlisted&types[]=public&types[]=direct")).expect("enum");
        assert_eq!(post.visibility, Some(Visibility::Unlisted));
        assert_eq!(post.types, [Visibility::Public, Visibility::Direct]);
        let json_post: Post = from_value(json!({"visibility": "private"})).expect("enum");
        assert_eq!(json_post.visibility, Some(Visibility::Private));
        let message = error_message::<Post>(json!({"visibility": "secret"}));
        assert!(
            message.starts_with("visibility: unknown variant `secret`"),
            "{message}"
        );
    }

    #[test]
    fn any_flatten_maps_and_strict_structs() {
        #[derive(Debug, Deserialize)]
        struct Raw {
            data: Value,
            #[serde(flatten)]
            rest: HashMap<String, Value>,
        }
        let raw: Raw = from_value(json!({"data": {"a": [1, "2"]}, "x": 1, "y": "z"})).expect("raw");
        assert_eq!(raw.data, json!({"a": [1, "2"]}));
        assert_eq!(raw.rest.get("x"), Some(&json!(1)));
        assert_eq!(raw.rest.get("y"), Some(&json!("z")));

        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Strict {
            #[serde(alias = "q")]
            query: String,
        }
        let strict: Strict = from_value(parse("q=cats&extra=1")).expect("strict");
        assert_eq!(strict.query, "cats");

        #[derive(Debug, Deserialize)]
        struct Alerts {
            alerts: HashMap<String, bool>,
            counts: Option<HashMap<u32, u32>>,
        }
        let alerts: Alerts =
            from_value(parse("alerts[mention]=true&alerts[follow]=0&counts[3]=4")).expect("map");
        assert_eq!(alerts.alerts.get("mention"), Some(&true));
        assert_eq!(alerts.alerts.get("follow"), Some(&false));
        assert_eq!(alerts.counts.and_then(|c| c.get(&3).copied()), Some(4));

        #[derive(Debug, Deserialize, PartialEq)]
        struct Id(u64);
        #[derive(Debug, Deserialize)]
        struct Wrapped {
            id: Id,
            pair: (String, u8),
            nothing: (),
        }
        let wrapped: Wrapped =
            from_value(json!({"id": "42", "pair": [1, "2"], "nothing": null})).expect("newtype");
        assert_eq!(wrapped.id, Id(42));
        assert_eq!(wrapped.pair, ("1".to_owned(), 2));
        assert_eq!(wrapped.nothing, ());
    }

    #[test]
    fn hostile_inputs_never_panic() {
        let mut inputs = vec![
            "a[b=1".to_owned(),
            "[]=1".to_owned(),
            "%ZZ".to_owned(),
            "%".to_owned(),
            "%%%=%%%".to_owned(),
            "a[]=1&a[][]=2&a[][b]=3".to_owned(),
            "]]]][[[[=1".to_owned(),
            "a[][][][][][][][]=1".to_owned(),
            "a[][][][][][][][][]=1".to_owned(),
            format!("a{}=1", "[a]".repeat(50)),
            format!("a{}=1", "[".repeat(10_000)),
            format!("a{}=1", "[]".repeat(10_000)),
            vec!["a[]=1"; 10_000].join("&"),
            vec!["x=1"; 10_000].join("&"),
        ];
        // A small deterministic generator over characters that matter.
        let alphabet = b"ab01[]=&%+Z.-";
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..(state % 40) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let index = usize::try_from(state % alphabet.len() as u64).unwrap_or(0);
                text.push(char::from(alphabet[index]));
            }
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            inputs.push(text);
        }
        for input in &inputs {
            if let Ok(value) = parse_urlencoded(input) {
                let _ = from_value::<Credentials>(value.clone());
                let _ = from_value::<Numbers>(value.clone());
                let _ = from_value::<Vec<String>>(value.clone());
                let _ = from_value::<HashMap<String, Value>>(value.clone());
                let mut merged = json!({"a": {"b": "c"}});
                merge(&mut merged, value);
            }
        }
    }
}
