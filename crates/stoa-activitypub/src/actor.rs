//! Actors: the accounts that act (`Person`, `Service`, `Application`,
//! `Group`, `Organization`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::de;
use crate::kinds::ActorKind;
use crate::note::{Attachment, Emoji, PropertyValue, Tag};
use crate::values::{HasId, ObjectOrLink, OneOrMany, Urls};

/// An actor document.
///
/// Field order follows Mastodon's serializer, so what Stoa emits reads like
/// what Mastodon emits. Properties Mastodon reads but Stoa does not use yet
/// (`memorial`, `suspended`, `attributionDomains`, `devices`…) are ignored
/// on input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// Present on top-level documents; absent when embedded.
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The actor's IRI.
    pub id: String,
    /// `Service` and `Application` mark bots.
    #[serde(rename = "type")]
    pub kind: ActorKind,
    /// Collection of actors this actor follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following: Option<String>,
    /// Collection of this actor's followers. Needed to classify a post's
    /// audience (see [`crate::audience`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<String>,
    /// Where activities addressed to this actor are delivered. Mastodon
    /// rejects actors without one, so this is not optional.
    pub inbox: String,
    /// The actor's published activities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<String>,
    /// Pinned posts (Mastodon's `toot:featured`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featured: Option<String>,
    /// Featured hashtags (Mastodon's `toot:featuredTags`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featured_tags: Option<String>,
    /// The username for WebFinger (`acct:{preferredUsername}@{host}`).
    /// Mastodon rejects actors that have neither this nor `webfinger`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Display name (plain text, may contain `:emoji:` shortcodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Bio, as HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The profile's web page.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub url: Urls,
    /// Whether follows need approval (a "locked" account).
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub manually_approves_followers: bool,
    /// Opt-in to the profile directory and discovery features; `None` when
    /// the sender does not say (Mastodon then treats it as `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discoverable: Option<bool>,
    /// Opt-in to full-text search of public posts; `None` when unstated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexable: Option<bool>,
    /// When the account was created.
    #[serde(
        default,
        deserialize_with = "de::lenient_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub published: Option<DateTime<Utc>>,
    /// The FEP-2c59 WebFinger address (`user@host`), sent by Mastodon 4.6+.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webfinger: Option<String>,
    /// HTTP-signature keys. Usually one; Mastodon 4.6+ accepts several.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub public_key: OneOrMany<PublicKey>,
    /// Custom emojis used in `name` and `summary`.
    #[serde(default)]
    pub tag: OneOrMany<Tag>,
    /// Profile fields (`PropertyValue`), plus whatever else servers attach
    /// (Mitra's identity proofs and payment links), kept raw.
    #[serde(default)]
    pub attachment: OneOrMany<Attachment>,
    /// Other endpoints, notably the shared inbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Endpoints>,
    /// A top-level shared inbox, as Misskey also writes it. Prefer
    /// [`Actor::shared_inbox`], which reads both places.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_inbox: Option<String>,
    /// Avatar. Usually one `Image`; PeerTube sends several sizes, a few
    /// servers a bare URL.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub icon: OneOrMany<ObjectOrLink<Image>>,
    /// Header picture.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub image: OneOrMany<ObjectOrLink<Image>>,
    /// Previous accounts of this actor; a `Move` is only honoured if the
    /// target lists its origin here.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub also_known_as: OneOrMany<String>,
    /// The account this one moved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
}

impl Actor {
    /// Starts a Mastodon-shaped `Person` for a local account; see
    /// [`PersonBuilder`].
    pub fn person(
        id: impl Into<String>,
        preferred_username: impl Into<String>,
        public_key_pem: impl Into<String>,
    ) -> PersonBuilder {
        PersonBuilder::new(id, preferred_username, public_key_pem)
    }

    /// The shared inbox, from `endpoints.sharedInbox` or a top-level
    /// `sharedInbox`. Mitra and GoToSocial publish none.
    pub fn shared_inbox(&self) -> Option<&str> {
        self.endpoints
            .as_ref()
            .and_then(|endpoints| endpoints.shared_inbox.as_deref())
            .or(self.shared_inbox.as_deref())
    }

    /// Where to deliver activities for this actor's followers: the shared
    /// inbox when there is one, else the personal inbox (never an empty
    /// URL, which is what broke rss-parrot with Mitra).
    pub fn delivery_inbox(&self) -> &str {
        self.shared_inbox().unwrap_or(&self.inbox)
    }

    /// The key HTTP signatures should be checked against: the first one.
    pub fn main_key(&self) -> Option<&PublicKey> {
        self.public_key.first()
    }

    /// The key with the given id, for verifying a signature's `keyId`.
    pub fn key(&self, key_id: &str) -> Option<&PublicKey> {
        self.public_key.iter().find(|key| key.id == key_id)
    }

    /// Whether Mastodon would flag this account as a bot.
    pub fn is_bot(&self) -> bool {
        matches!(self.kind, ActorKind::Service | ActorKind::Application)
    }

    /// The profile's web page, falling back to the actor id.
    pub fn profile_url(&self) -> &str {
        self.url.html_href().unwrap_or(&self.id)
    }

    /// The avatar's URL.
    pub fn avatar_url(&self) -> Option<&str> {
        self.icon.first().and_then(Image::url_of)
    }

    /// The header picture's URL.
    pub fn header_url(&self) -> Option<&str> {
        self.image.first().and_then(Image::url_of)
    }

    /// The profile fields, in display order.
    pub fn fields(&self) -> impl Iterator<Item = &PropertyValue> {
        self.attachment
            .iter()
            .filter_map(Attachment::as_property_value)
    }

    /// The custom emojis of `name` and `summary`.
    pub fn emojis(&self) -> impl Iterator<Item = &Emoji> {
        self.tag.iter().filter_map(Tag::as_emoji)
    }
}

impl HasId for Actor {
    fn id(&self) -> Option<&str> {
        Some(&self.id)
    }
}

/// An actor's RSA key for HTTP signatures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    /// The key id that signatures name in `keyId`. Mastodon uses
    /// `{actor}#main-key`; GoToSocial uses `{actor}/main-key`.
    pub id: String,
    /// The actor that owns the key. When the key id is not a fragment of the
    /// actor, Mastodon fetches the key and requires `owner == actor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// SubjectPublicKeyInfo, PEM-encoded.
    pub public_key_pem: String,
}

/// An actor's `endpoints` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    /// One inbox for the whole server, so a post to many followers on one
    /// server is delivered once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_inbox: Option<String>,
}

/// A picture: an avatar, a header, or an emoji's icon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// Usually `"Image"`.
    #[serde(rename = "type", default = "Image::default_kind")]
    pub kind: String,
    /// The picture's media type (`image/png`…). Mastodon always sends it;
    /// Pleroma and Misskey sometimes do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Where the picture is.
    #[serde(default)]
    pub url: Urls,
    /// Alt text (GoToSocial, Misskey).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Image {
    /// An `Image` as Mastodon writes it: type, media type and one URL.
    pub fn new(url: impl Into<String>, media_type: Option<String>) -> Self {
        Image {
            kind: Self::default_kind(),
            media_type,
            url: Urls::single(url),
            name: None,
        }
    }

    fn default_kind() -> String {
        "Image".to_owned()
    }

    /// The URL of an image reference, whether it is a bare URL or an `Image`.
    pub fn url_of(image: &ObjectOrLink<Image>) -> Option<&str> {
        match image {
            ObjectOrLink::Link(url) => Some(url),
            ObjectOrLink::Object(image) => image.url.first_href(),
        }
    }
}

/// Builds the actor document of a local account, in Mastodon's shape.
///
/// Collection URLs are derived from the actor id the way Mastodon lays them
/// out, which is the layout Stoa serves:
///
/// | property                | value                              |
/// |-------------------------|------------------------------------|
/// | `inbox`                 | `{id}/inbox`                       |
/// | `outbox`                | `{id}/outbox`                      |
/// | `followers`             | `{id}/followers`                   |
/// | `following`             | `{id}/following`                   |
/// | `featured`              | `{id}/collections/featured`        |
/// | `featuredTags`          | `{id}/collections/tags`            |
/// | `endpoints.sharedInbox` | `{origin of id}/inbox`             |
/// | `url`                   | `{origin of id}/@{username}`       |
/// | `publicKey.id`          | `{id}#main-key` (owner = `id`)     |
///
/// The shared inbox is always published (peers deliver to an empty URL
/// otherwise). The document carries [`Context::stoa`], and
/// `manuallyApprovesFollowers`, `discoverable` and `indexable` are always
/// written (default `false`: discovery is opt-in), as Mastodon does.
///
/// `id` must be an absolute URL; if it cannot be parsed, the derived
/// `sharedInbox` and `url` are left out rather than made up.
#[derive(Debug, Clone)]
#[must_use]
pub struct PersonBuilder {
    actor: Actor,
}

impl PersonBuilder {
    /// A `Person` with the given id, username and PEM public key.
    pub fn new(
        id: impl Into<String>,
        preferred_username: impl Into<String>,
        public_key_pem: impl Into<String>,
    ) -> Self {
        let id = id.into();
        let preferred_username = preferred_username.into();
        let origin = url::Url::parse(&id)
            .ok()
            .map(|url| url.origin())
            .filter(url::Origin::is_tuple)
            .map(|origin| origin.ascii_serialization());
        let actor = Actor {
            context: Some(Context::stoa()),
            kind: ActorKind::Person,
            following: Some(format!("{id}/following")),
            followers: Some(format!("{id}/followers")),
            inbox: format!("{id}/inbox"),
            outbox: Some(format!("{id}/outbox")),
            featured: Some(format!("{id}/collections/featured")),
            featured_tags: Some(format!("{id}/collections/tags")),
            url: origin
                .as_ref()
                .map(|origin| Urls::single(format!("{origin}/@{preferred_username}")))
                .unwrap_or_default(),
            preferred_username: Some(preferred_username),
            name: None,
            summary: None,
            manually_approves_followers: false,
            discoverable: Some(false),
            indexable: Some(false),
            published: None,
            webfinger: None,
            public_key: OneOrMany::one(PublicKey {
                id: format!("{id}#main-key"),
                owner: Some(id.clone()),
                public_key_pem: public_key_pem.into(),
            }),
            tag: OneOrMany::default(),
            attachment: OneOrMany::default(),
            endpoints: Some(Endpoints {
                shared_inbox: origin.map(|origin| format!("{origin}/inbox")),
            }),
            shared_inbox: None,
            icon: OneOrMany::default(),
            image: OneOrMany::default(),
            also_known_as: OneOrMany::default(),
            moved_to: None,
            id,
        };
        PersonBuilder { actor }
    }

    /// The actor type: `Service` for bots, `Application` for the instance
    /// actor, `Group` for groups.
    pub fn kind(mut self, kind: ActorKind) -> Self {
        self.actor.kind = kind;
        self
    }

    /// Display name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.actor.name = Some(name.into());
        self
    }

    /// Bio, already rendered to HTML.
    pub fn summary(mut self, html: impl Into<String>) -> Self {
        self.actor.summary = Some(html.into());
        self
    }

    /// Overrides the derived profile page URL. It must be on the same host
    /// as the id, or Mastodon drops it.
    pub fn profile_url(mut self, url: impl Into<String>) -> Self {
        self.actor.url = Urls::single(url);
        self
    }

    /// Overrides the derived shared inbox.
    pub fn shared_inbox(mut self, url: impl Into<String>) -> Self {
        self.actor.endpoints = Some(Endpoints {
            shared_inbox: Some(url.into()),
        });
        self
    }

    /// Avatar.
    pub fn icon(mut self, url: impl Into<String>, media_type: impl Into<String>) -> Self {
        self.actor.icon = OneOrMany::one(ObjectOrLink::Object(Image::new(
            url,
            Some(media_type.into()),
        )));
        self
    }

    /// Header picture.
    pub fn header(mut self, url: impl Into<String>, media_type: impl Into<String>) -> Self {
        self.actor.image = OneOrMany::one(ObjectOrLink::Object(Image::new(
            url,
            Some(media_type.into()),
        )));
        self
    }

    /// Appends a profile field; `value_html` is HTML, as Mastodon sends it.
    pub fn field(mut self, name: impl Into<String>, value_html: impl Into<String>) -> Self {
        self.actor
            .attachment
            .push(Attachment::PropertyValue(PropertyValue {
                name: name.into(),
                value: value_html.into(),
            }));
        self
    }

    /// Appends a custom emoji used in the name or bio.
    pub fn emoji(mut self, emoji: Emoji) -> Self {
        self.actor.tag.push(Tag::Emoji(Box::new(emoji)));
        self
    }

    /// Whether follows need approval.
    pub fn manually_approves_followers(mut self, locked: bool) -> Self {
        self.actor.manually_approves_followers = locked;
        self
    }

    /// Profile directory opt-in.
    pub fn discoverable(mut self, discoverable: bool) -> Self {
        self.actor.discoverable = Some(discoverable);
        self
    }

    /// Search opt-in.
    pub fn indexable(mut self, indexable: bool) -> Self {
        self.actor.indexable = Some(indexable);
        self
    }

    /// Account creation time. Mastodon sends the date at midnight UTC.
    pub fn published(mut self, published: DateTime<Utc>) -> Self {
        self.actor.published = Some(published);
        self
    }

    /// Previous accounts, for migrations.
    pub fn also_known_as(mut self, ids: Vec<String>) -> Self {
        self.actor.also_known_as = OneOrMany::many(ids);
        self
    }

    /// The account this one moved to.
    pub fn moved_to(mut self, id: impl Into<String>) -> Self {
        self.actor.moved_to = Some(id.into());
        self
    }

    /// The finished actor document.
    pub fn build(self) -> Actor {
        self.actor
    }
}
