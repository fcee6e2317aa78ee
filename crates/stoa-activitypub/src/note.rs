//! Posts (`Note`, `Question` and the types Mastodon converts to statuses)
//! and what hangs off them: tags, attachments, poll options.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::actor::Image;
use crate::audience::{addressing, audience, is_public, Audience};
use crate::context::Context;
use crate::de;
use crate::kinds::NoteKind;
use crate::values::{HasId, ObjectOrLink, ObjectRef, OneOrMany, Urls};

/// A post: `Note`, `Question` (a poll), or one of the types Mastodon converts
/// to a status (`Article`, `Page`, `Image`, `Audio`, `Video`, `Event`).
///
/// Server-specific extras are ignored on input: Misskey's
/// `_misskey_content`/`_misskey_quote`/`quoteUrl`, Pleroma's and Akkoma's
/// `source`, GoToSocial's `interactionPolicy`, Mastodon's `atomUri` and
/// `replies`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    /// Present on top-level documents; absent when embedded in an activity.
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The post's IRI.
    pub id: String,
    /// `Note`, `Question`, `Article`…
    #[serde(rename = "type")]
    pub kind: NoteKind,
    /// Content warning. Written even when `null`, as Mastodon does.
    #[serde(default)]
    pub summary: Option<String>,
    /// The post this replies to: usually an IRI, sometimes embedded (Misskey).
    /// Written even when `null`, as Mastodon does.
    #[serde(default)]
    pub in_reply_to: Option<ObjectOrLink<ObjectRef>>,
    /// Creation time.
    #[serde(
        default,
        deserialize_with = "de::lenient_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub published: Option<DateTime<Utc>>,
    /// Last edit time. Mastodon ignores an `Update` without it.
    #[serde(
        default,
        deserialize_with = "de::lenient_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated: Option<DateTime<Utc>>,
    /// The post's web page.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub url: Urls,
    /// The author: an IRI (Mastodon), or, as PeerTube does, an array of
    /// embedded `Person` and `Group` objects. See [`Note::author_id`].
    #[serde(default)]
    pub attributed_to: OneOrMany<ObjectOrLink<ObjectRef>>,
    /// Primary audience.
    #[serde(default)]
    pub to: OneOrMany<String>,
    /// Secondary audience.
    #[serde(default)]
    pub cc: OneOrMany<String>,
    /// Whether media (and content, with a `summary`) is hidden by default.
    /// `null` (Pleroma) counts as `false`.
    #[serde(default, deserialize_with = "de::null_as_default")]
    pub sensitive: bool,
    /// OStatus conversation id, used by Mastodon and Pleroma for threading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
    /// The title of an `Article`/`Page`, or the chosen option of a poll vote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The post's HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The HTML per language (BCP 47 tag → HTML). Mastodon sends one entry,
    /// equal to `content`, when the language is known.
    #[serde(
        default,
        deserialize_with = "de::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub content_map: BTreeMap<String, String>,
    /// Media.
    #[serde(default)]
    pub attachment: OneOrMany<Attachment>,
    /// Mentions, hashtags, custom emojis, and whatever else servers tag.
    #[serde(default)]
    pub tag: OneOrMany<Tag>,
    /// Options of a single-choice poll.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub one_of: OneOrMany<PollOption>,
    /// Options of a multiple-choice poll.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub any_of: OneOrMany<PollOption>,
    /// When an open poll closes.
    #[serde(
        default,
        deserialize_with = "de::lenient_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_time: Option<DateTime<Utc>>,
    /// When a poll closed. Some servers send `true`, read as unknown.
    #[serde(
        default,
        deserialize_with = "de::lenient_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub closed: Option<DateTime<Utc>>,
    /// How many people voted (Mastodon's `toot:votersCount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voters_count: Option<u64>,
}

impl Note {
    /// Starts a Mastodon-shaped note; see [`NoteBuilder`].
    pub fn builder(
        id: impl Into<String>,
        author_id: impl Into<String>,
        followers_url: impl Into<String>,
        audience: Audience,
    ) -> NoteBuilder {
        NoteBuilder::new(id, author_id, followers_url, audience)
    }

    /// The author's IRI.
    ///
    /// With several `attributedTo` entries (PeerTube: the uploading `Person`
    /// and the channel `Group`), the first person-like one wins: that is the
    /// account Mastodon attributes the post to.
    pub fn author_id(&self) -> Option<&str> {
        let person_like = ["Person", "Service", "Application"];
        self.attributed_to
            .iter()
            .find(|entry| {
                entry
                    .as_object()
                    .is_some_and(|object| person_like.iter().any(|kind| object.has_type(kind)))
            })
            .or_else(|| self.attributed_to.first())
            .and_then(ObjectOrLink::id)
    }

    /// The IRI of the post this replies to.
    pub fn in_reply_to_id(&self) -> Option<&str> {
        self.in_reply_to.as_ref().and_then(ObjectOrLink::id)
    }

    /// The `Mention` tags.
    pub fn mentions(&self) -> impl Iterator<Item = &Mention> {
        self.tag.iter().filter_map(Tag::as_mention)
    }

    /// The `Hashtag` tags.
    pub fn hashtags(&self) -> impl Iterator<Item = &Hashtag> {
        self.tag.iter().filter_map(Tag::as_hashtag)
    }

    /// The custom `Emoji` tags.
    pub fn emojis(&self) -> impl Iterator<Item = &Emoji> {
        self.tag.iter().filter_map(Tag::as_emoji)
    }

    /// The media attachments Stoa understands.
    pub fn documents(&self) -> impl Iterator<Item = &Document> {
        self.attachment.iter().filter_map(Attachment::as_document)
    }

    /// Whether the post is addressed to the public collection.
    pub fn is_public(&self) -> bool {
        is_public(self.to.as_slice(), self.cc.as_slice())
    }

    /// Mastodon's visibility of this post; `followers_url` is the author's
    /// followers collection (see [`crate::audience`]).
    pub fn audience(&self, followers_url: Option<&str>) -> Audience {
        audience(self.to.as_slice(), self.cc.as_slice(), followers_url)
    }
}

impl HasId for Note {
    fn id(&self) -> Option<&str> {
        Some(&self.id)
    }
}

/// An entry of a `tag` array.
///
/// Unknown or malformed entries (FEP-e232 `Link`s, Misskey's odd emoji,
/// a `Mention` with a non-string `href`…) are kept as [`Tag::Other`] rather
/// than failing the post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Tag {
    /// `@user@host`.
    Mention(Mention),
    /// `#tag`.
    Hashtag(Hashtag),
    /// `:shortcode:` (Mastodon's `toot:Emoji`). Boxed: it is five times
    /// the size of the other variants.
    Emoji(Box<Emoji>),
    /// Anything else, verbatim.
    #[serde(untagged)]
    Other(Value),
}

impl Tag {
    /// The mention, if this is one.
    pub fn as_mention(&self) -> Option<&Mention> {
        match self {
            Tag::Mention(mention) => Some(mention),
            _ => None,
        }
    }

    /// The hashtag, if this is one.
    pub fn as_hashtag(&self) -> Option<&Hashtag> {
        match self {
            Tag::Hashtag(hashtag) => Some(hashtag),
            _ => None,
        }
    }

    /// The emoji, if this is one.
    pub fn as_emoji(&self) -> Option<&Emoji> {
        match self {
            Tag::Emoji(emoji) => Some(emoji),
            _ => None,
        }
    }
}

/// A mention of an actor.
///
/// Both fields are optional because GoToSocial, for one, accepts either and
/// falls back from `href` to `name`; Stoa always sends both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    /// The mentioned actor's IRI (sometimes its profile URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// `@user@host`, or `@user` for local users on some servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A hashtag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hashtag {
    /// The tag's page on the sender's server (HTML, not an ActivityPub id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// `#tag`, with the `#`.
    pub name: String,
}

/// A custom emoji.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Emoji {
    /// The emoji's IRI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `:shortcode:`, with the colons.
    pub name: String,
    /// The picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<Image>,
    /// When the picture last changed (so caches can refresh it).
    #[serde(
        default,
        deserialize_with = "de::lenient_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated: Option<DateTime<Utc>>,
}

/// An entry of an `attachment` array: media on posts, profile fields on
/// actors.
///
/// Unknown or malformed entries (Mitra's identity proofs and payment links,
/// a document whose `url` is a number…) are kept as
/// [`Attachment::Other`] rather than failing the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Attachment {
    /// Generic media; what Mastodon sends for every kind of file.
    Document(Document),
    /// A picture (GoToSocial, Mitra, Misskey's avatars).
    Image(Document),
    /// A video.
    Video(Document),
    /// A sound.
    Audio(Document),
    /// A profile field (schema.org `PropertyValue`).
    PropertyValue(PropertyValue),
    /// Anything else, verbatim.
    #[serde(untagged)]
    Other(Value),
}

impl Attachment {
    /// The media file, for the four media types.
    pub fn as_document(&self) -> Option<&Document> {
        match self {
            Attachment::Document(document)
            | Attachment::Image(document)
            | Attachment::Video(document)
            | Attachment::Audio(document) => Some(document),
            _ => None,
        }
    }

    /// The profile field, if this is one.
    pub fn as_property_value(&self) -> Option<&PropertyValue> {
        match self {
            Attachment::PropertyValue(field) => Some(field),
            _ => None,
        }
    }
}

/// A media attachment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    /// The file's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Where the file is.
    #[serde(default)]
    pub url: Urls,
    /// Alt text (Mastodon, Misskey, Pleroma).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Alt text as GoToSocial writes it. See [`Document::description`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// A compact placeholder (Mastodon's `toot:blurhash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blurhash: Option<String>,
    /// Width in pixels.
    #[serde(
        default,
        deserialize_with = "de::lenient_dimension",
        skip_serializing_if = "Option::is_none"
    )]
    pub width: Option<u32>,
    /// Height in pixels.
    #[serde(
        default,
        deserialize_with = "de::lenient_dimension",
        skip_serializing_if = "Option::is_none"
    )]
    pub height: Option<u32>,
    /// Where to centre crops, each coordinate in -1.0..=1.0 (Mastodon's
    /// `toot:focalPoint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focal_point: Option<[f64; 2]>,
}

impl Document {
    /// The alt text, from `name` or GoToSocial's `summary`.
    pub fn description(&self) -> Option<&str> {
        self.name.as_deref().or(self.summary.as_deref())
    }
}

/// A profile field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyValue {
    /// The label (plain text).
    pub name: String,
    /// The value (HTML).
    pub value: String,
}

/// One answer of a poll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollOption {
    /// Always `"Note"`.
    #[serde(rename = "type", default = "PollOption::default_kind")]
    pub kind: String,
    /// The answer's text.
    pub name: String,
    /// Its vote count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<PollReplies>,
}

impl PollOption {
    fn default_kind() -> String {
        "Note".to_owned()
    }
}

/// The vote count of a poll option, as a `Collection` stub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollReplies {
    /// Always `"Collection"`.
    #[serde(rename = "type", default = "PollReplies::default_kind")]
    pub kind: String,
    /// Votes for the option.
    #[serde(default)]
    pub total_items: u64,
}

impl PollReplies {
    fn default_kind() -> String {
        "Collection".to_owned()
    }
}

/// Builds a local post in Mastodon's shape.
///
/// What makes this more than a struct literal is addressing: `to` and `cc`
/// are computed by [`addressing`] from the audience, the author's followers
/// collection and the mentions, so every mentioned actor is both tagged and
/// addressed, which Mastodon needs to notify them. The note carries
/// [`Context::stoa`]; `summary`, `inReplyTo` and `sensitive` are always
/// written (as `null`/`false` when unset), `attachment` and `tag` always as
/// arrays, and `contentMap` holds the content under its language when one is
/// given, all as Mastodon does.
#[derive(Debug, Clone)]
#[must_use]
pub struct NoteBuilder {
    note: Note,
    audience: Audience,
    followers_url: String,
}

impl NoteBuilder {
    /// A `Note` by `author_id`, whose followers collection is
    /// `followers_url`, for `audience`.
    pub fn new(
        id: impl Into<String>,
        author_id: impl Into<String>,
        followers_url: impl Into<String>,
        audience: Audience,
    ) -> Self {
        let note = Note {
            context: Some(Context::stoa()),
            id: id.into(),
            kind: NoteKind::Note,
            summary: None,
            in_reply_to: None,
            published: None,
            updated: None,
            url: Urls::default(),
            attributed_to: OneOrMany::one(ObjectOrLink::Link(author_id.into())),
            to: OneOrMany::default(),
            cc: OneOrMany::default(),
            sensitive: false,
            conversation: None,
            name: None,
            content: None,
            content_map: BTreeMap::new(),
            attachment: OneOrMany::default(),
            tag: OneOrMany::default(),
            one_of: OneOrMany::default(),
            any_of: OneOrMany::default(),
            end_time: None,
            closed: None,
            voters_count: None,
        };
        NoteBuilder {
            note,
            audience,
            followers_url: followers_url.into(),
        }
    }

    /// The HTML content.
    pub fn content(mut self, html: impl Into<String>) -> Self {
        self.note.content = Some(html.into());
        self
    }

    /// The content's language (BCP 47), which fills `contentMap`.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.note.content_map = BTreeMap::from([(language.into(), String::new())]);
        self
    }

    /// A content warning; also marks the post sensitive, as Mastodon does.
    pub fn summary(mut self, text: impl Into<String>) -> Self {
        self.note.summary = Some(text.into());
        self.note.sensitive = true;
        self
    }

    /// Hides media behind a click.
    pub fn sensitive(mut self, sensitive: bool) -> Self {
        self.note.sensitive = sensitive;
        self
    }

    /// The post this replies to.
    pub fn in_reply_to(mut self, id: impl Into<String>) -> Self {
        self.note.in_reply_to = Some(ObjectOrLink::Link(id.into()));
        self
    }

    /// Creation time.
    pub fn published(mut self, published: DateTime<Utc>) -> Self {
        self.note.published = Some(published);
        self
    }

    /// Last edit time (required for `Update` to be accepted).
    pub fn updated(mut self, updated: DateTime<Utc>) -> Self {
        self.note.updated = Some(updated);
        self
    }

    /// The post's web page.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.note.url = Urls::single(url);
        self
    }

    /// Mentions an actor: adds the `Mention` tag and addresses the actor.
    /// `name` is `@user@host`.
    pub fn mention(mut self, actor_id: impl Into<String>, name: impl Into<String>) -> Self {
        self.note.tag.push(Tag::Mention(Mention {
            href: Some(actor_id.into()),
            name: Some(name.into()),
        }));
        self
    }

    /// Adds a hashtag; `name` should include the `#`.
    pub fn hashtag(mut self, name: impl Into<String>, href: impl Into<String>) -> Self {
        self.note.tag.push(Tag::Hashtag(Hashtag {
            href: Some(href.into()),
            name: name.into(),
        }));
        self
    }

    /// Adds a custom emoji used in the content.
    pub fn emoji(mut self, emoji: Emoji) -> Self {
        self.note.tag.push(Tag::Emoji(Box::new(emoji)));
        self
    }

    /// Adds a media attachment (Mastodon sends them all as `Document`).
    pub fn attachment(mut self, document: Document) -> Self {
        self.note.attachment.push(Attachment::Document(document));
        self
    }

    /// The finished note, with `to`/`cc` filled in.
    pub fn build(self) -> Note {
        let NoteBuilder {
            mut note,
            audience,
            followers_url,
        } = self;
        let mentioned: Vec<&str> = note.mentions().filter_map(|m| m.href.as_deref()).collect();
        let (to, cc) = addressing(audience, &followers_url, &mentioned);
        note.to = OneOrMany::many(to);
        note.cc = OneOrMany::many(cc);
        if let (Some(content), Some(language)) = (
            note.content.clone(),
            note.content_map.keys().next().cloned(),
        ) {
            note.content_map = BTreeMap::from([(language, content)]);
        } else {
            note.content_map.clear();
        }
        note
    }
}
