//! The shapes JSON-LD lets a property take: one value or many, an id or an
//! embedded object.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A property that may be written as a single value or as an array.
///
/// JSON-LD makes `"to": "x"` and `"to": ["x"]` mean the same thing, and
/// servers use both (GoToSocial writes single values bare, Mastodon always
/// writes arrays). Parsing accepts either, plus `null` as "none"; the variant
/// remembers which form was read or built, so serialising reproduces it.
/// That is how Stoa emits `"icon": {…}` but `"to": […]`, like Mastodon.
#[derive(Debug, Clone, PartialEq)]
pub enum OneOrMany<T> {
    /// Written as a bare value.
    One(T),
    /// Written as an array (possibly empty).
    Many(Vec<T>),
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl<T> OneOrMany<T> {
    /// A single value, serialised bare.
    pub fn one(value: T) -> Self {
        OneOrMany::One(value)
    }

    /// Values serialised as an array, even when there is only one.
    pub fn many(values: Vec<T>) -> Self {
        OneOrMany::Many(values)
    }

    /// The values as a slice, whichever form they came in.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(value) => std::slice::from_ref(value),
            OneOrMany::Many(values) => values,
        }
    }

    /// Iterates over the values.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.as_slice().iter()
    }

    /// The first value, which is what single-valued readers of a
    /// multi-valued property (an avatar, an author) should use.
    pub fn first(&self) -> Option<&T> {
        self.as_slice().first()
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there are no values (absent, `null` or `[]`).
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Appends a value; a bare value becomes an array.
    pub fn push(&mut self, value: T) {
        match self {
            OneOrMany::Many(values) => values.push(value),
            OneOrMany::One(_) => {
                let previous = std::mem::take(self);
                let mut values = previous.into_vec();
                values.push(value);
                *self = OneOrMany::Many(values);
            }
        }
    }

    /// The values as a vector.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(value) => vec![value],
            OneOrMany::Many(values) => values,
        }
    }
}

impl<T> From<Vec<T>> for OneOrMany<T> {
    fn from(values: Vec<T>) -> Self {
        OneOrMany::Many(values)
    }
}

impl<T> FromIterator<T> for OneOrMany<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        OneOrMany::Many(iter.into_iter().collect())
    }
}

impl<'a, T> IntoIterator for &'a OneOrMany<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Serialize> Serialize for OneOrMany<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OneOrMany::One(value) => value.serialize(serializer),
            OneOrMany::Many(values) => values.serialize(serializer),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for OneOrMany<T> {
    /// Goes through a JSON value so that an error names the item that failed
    /// instead of serde's "did not match any variant".
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Ok(OneOrMany::Many(Vec::new())),
            Value::Array(items) => items
                .into_iter()
                .map(serde_json::from_value)
                .collect::<Result<Vec<T>, _>>()
                .map(OneOrMany::Many)
                .map_err(D::Error::custom),
            single => serde_json::from_value(single)
                .map(OneOrMany::One)
                .map_err(D::Error::custom),
        }
    }
}

/// Something that may carry an `id`.
///
/// Lets [`ObjectOrLink::id`] answer "what does this point to" whether the
/// sender wrote a bare IRI or embedded the object.
pub trait HasId {
    /// The object's `id`, if it has one (anonymous embedded objects don't).
    fn id(&self) -> Option<&str>;
}

impl<T: HasId + ?Sized> HasId for Box<T> {
    fn id(&self) -> Option<&str> {
        (**self).id()
    }
}

/// A reference that may be a bare IRI or an embedded object.
///
/// `"object": "https://…"` and `"object": {"id": "https://…", …}` are both
/// valid for almost every property; Mastodon embeds the `Note` in `Create`
/// but only links it in `Like`. A JSON string is always read as a link.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectOrLink<T> {
    /// A bare IRI.
    Link(String),
    /// An embedded object.
    Object(T),
}

impl<T> ObjectOrLink<T> {
    /// A bare IRI reference.
    pub fn link(iri: impl Into<String>) -> Self {
        ObjectOrLink::Link(iri.into())
    }

    /// The IRI, when the reference is a bare link.
    pub fn as_link(&self) -> Option<&str> {
        match self {
            ObjectOrLink::Link(iri) => Some(iri),
            ObjectOrLink::Object(_) => None,
        }
    }

    /// The embedded object, when there is one.
    pub fn as_object(&self) -> Option<&T> {
        match self {
            ObjectOrLink::Link(_) => None,
            ObjectOrLink::Object(object) => Some(object),
        }
    }
}

impl<T: HasId> ObjectOrLink<T> {
    /// The IRI this points to: the link itself, or the embedded object's `id`.
    pub fn id(&self) -> Option<&str> {
        match self {
            ObjectOrLink::Link(iri) => Some(iri),
            ObjectOrLink::Object(object) => object.id(),
        }
    }
}

impl<T: Serialize> Serialize for ObjectOrLink<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ObjectOrLink::Link(iri) => iri.serialize(serializer),
            ObjectOrLink::Object(object) => object.serialize(serializer),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for ObjectOrLink<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(iri) => Ok(ObjectOrLink::Link(iri)),
            other => serde_json::from_value(other)
                .map(ObjectOrLink::Object)
                .map_err(D::Error::custom),
        }
    }
}

/// A minimal embedded object: its id, type and name, nothing else.
///
/// Used where we only need to know *which* object is meant (`actor`,
/// `attributedTo`, `inReplyTo`). PeerTube embeds `{"type": "Person", "id": …}`
/// in `attributedTo`, and Misskey may embed a whole `Note` in `inReplyTo`;
/// either way we keep the id and fetch the real document from its origin
/// rather than trust an embedded copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectRef {
    /// The object's IRI.
    pub id: String,
    /// Its type name(s), if given.
    #[serde(rename = "type", default, skip_serializing_if = "OneOrMany::is_empty")]
    pub kind: OneOrMany<String>,
    /// Its display name, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl ObjectRef {
    /// Whether one of the type names is `name`.
    pub fn has_type(&self, name: &str) -> bool {
        self.kind.iter().any(|kind| kind == name)
    }
}

impl HasId for ObjectRef {
    fn id(&self) -> Option<&str> {
        Some(&self.id)
    }
}

/// An ActivityStreams `Link` object: `{"type": "Link", "href": …}`.
///
/// PeerTube writes a video's `url` as an array of these (one per format);
/// FEP-e232 object links (Mitra's quotes) use them in `tag`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkObject {
    /// Usually `"Link"`.
    #[serde(rename = "type", default = "LinkObject::default_kind")]
    pub kind: String,
    /// The target IRI.
    pub href: String,
    /// The target's media type (`text/html` for a web page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Link relations.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub rel: OneOrMany<String>,
    /// A human-readable label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl LinkObject {
    fn default_kind() -> String {
        "Link".to_owned()
    }
}

impl HasId for LinkObject {
    fn id(&self) -> Option<&str> {
        Some(&self.href)
    }
}

/// A `url` property: one or more IRIs or `Link` objects.
pub type Urls = OneOrMany<ObjectOrLink<LinkObject>>;

impl OneOrMany<ObjectOrLink<LinkObject>> {
    /// A single bare URL, which is how Mastodon writes `url`.
    pub fn single(url: impl Into<String>) -> Self {
        OneOrMany::One(ObjectOrLink::Link(url.into()))
    }

    /// The first URL, whatever its media type.
    pub fn first_href(&self) -> Option<&str> {
        self.first().and_then(ObjectOrLink::id)
    }

    /// The first URL that is a web page: a bare IRI, or a `Link` whose media
    /// type is HTML or unstated. Falls back to the first URL.
    pub fn html_href(&self) -> Option<&str> {
        self.iter()
            .find_map(|url| match url {
                ObjectOrLink::Link(iri) => Some(iri.as_str()),
                ObjectOrLink::Object(link) => match link.media_type.as_deref() {
                    None => Some(link.href.as_str()),
                    Some(media_type) if media_type.starts_with("text/html") => {
                        Some(link.href.as_str())
                    }
                    Some(_) => None,
                },
            })
            .or_else(|| self.first_href())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_or_many_reads_every_form() {
        let one: OneOrMany<String> = serde_json::from_value(json!("a")).unwrap();
        assert_eq!(one.as_slice(), ["a"]);
        let many: OneOrMany<String> = serde_json::from_value(json!(["a", "b"])).unwrap();
        assert_eq!(many.as_slice(), ["a", "b"]);
        let none: OneOrMany<String> = serde_json::from_value(json!(null)).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn one_or_many_writes_the_form_it_holds() {
        assert_eq!(
            serde_json::to_value(OneOrMany::one("a".to_owned())).unwrap(),
            json!("a")
        );
        assert_eq!(
            serde_json::to_value(OneOrMany::many(vec!["a".to_owned()])).unwrap(),
            json!(["a"])
        );
    }

    #[test]
    fn one_or_many_errors_name_the_bad_item() {
        let error = serde_json::from_value::<OneOrMany<String>>(json!(["a", 3])).unwrap_err();
        assert!(error.to_string().contains("integer"), "{error}");
    }

    #[test]
    fn push_turns_one_into_many() {
        let mut values = OneOrMany::one(1);
        values.push(2);
        assert_eq!(values, OneOrMany::many(vec![1, 2]));
    }

    #[test]
    fn object_or_link_reads_both() {
        let link: ObjectOrLink<ObjectRef> = serde_json::from_value(json!("https://a/1")).unwrap();
        assert_eq!(link.id(), Some("https://a/1"));
        let object: ObjectOrLink<ObjectRef> =
            serde_json::from_value(json!({"id": "https://a/2", "type": "Person"})).unwrap();
        assert_eq!(object.id(), Some("https://a/2"));
        assert!(object.as_object().unwrap().has_type("Person"));
    }

    #[test]
    fn html_href_prefers_web_pages() {
        let urls: Urls = serde_json::from_value(json!([
            {"type": "Link", "mediaType": "application/x-mpegURL", "href": "https://v/a.m3u8"},
            {"type": "Link", "mediaType": "text/html", "href": "https://v/w/1"}
        ]))
        .unwrap();
        assert_eq!(urls.first_href(), Some("https://v/a.m3u8"));
        assert_eq!(urls.html_href(), Some("https://v/w/1"));
    }
}
