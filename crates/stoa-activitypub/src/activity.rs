//! Activities: what arrives in an inbox and what Stoa delivers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::audience::{audience, Audience};
use crate::constants::PUBLIC_COLLECTION;
use crate::context::Context;
use crate::de;
use crate::kinds::ActivityKind;
use crate::note::Note;
use crate::object::{Object, Tombstone};
use crate::values::{HasId, ObjectOrLink, ObjectRef, OneOrMany};

/// An activity (`Create`, `Follow`, `Undo`…).
///
/// `object` is a list because `Flag` reports an account and several posts at
/// once; every other activity has exactly one, which [`Activity::object_id`]
/// and [`Activity::object`] return. Server-specific extras are ignored on
/// input: Pleroma's `directMessage` and `context`, Misskey's
/// `_misskey_reaction`, Mastodon's LD `signature`, Mitra's `proof`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// Present on top-level documents; absent when embedded (the `Follow`
    /// inside an `Undo`).
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The activity's IRI. Optional because GoToSocial sends `Delete`
    /// without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: ActivityKind,
    /// Who did it: an IRI, or an embedded actor of which only the id is
    /// kept (the actor document must be fetched from its origin anyway).
    pub actor: ObjectOrLink<ObjectRef>,
    /// What it was done to: ids or embedded objects.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub object: OneOrMany<ObjectOrLink<Object>>,
    /// `Move`: the new account; `Add`/`Remove`: the collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<ObjectOrLink<Object>>,
    /// Primary audience.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub to: OneOrMany<String>,
    /// Secondary audience.
    #[serde(default, skip_serializing_if = "OneOrMany::is_empty")]
    pub cc: OneOrMany<String>,
    /// When it happened.
    #[serde(
        default,
        deserialize_with = "de::lenient_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub published: Option<DateTime<Utc>>,
    /// `Flag`: the report's comment; Misskey's `Like`: the emoji reaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

impl Activity {
    /// An activity of `kind` by `actor_id` on `object`, with the
    /// ActivityStreams context and no addressing (Mastodon's shape for
    /// `Follow`, `Like`, `Block`…).
    pub fn new(
        kind: ActivityKind,
        id: impl Into<String>,
        actor_id: impl Into<String>,
        object: ObjectOrLink<Object>,
    ) -> Self {
        Activity {
            context: Some(Context::activitystreams()),
            id: Some(id.into()),
            kind,
            actor: ObjectOrLink::Link(actor_id.into()),
            object: OneOrMany::one(object),
            target: None,
            to: OneOrMany::default(),
            cc: OneOrMany::default(),
            published: None,
            content: None,
        }
    }

    /// The actor's IRI.
    pub fn actor_id(&self) -> &str {
        match &self.actor {
            ObjectOrLink::Link(id) => id,
            ObjectOrLink::Object(actor) => &actor.id,
        }
    }

    /// The object's IRI, whether it was linked or embedded (the first one,
    /// for a `Flag`).
    pub fn object_id(&self) -> Option<&str> {
        self.object.first().and_then(ObjectOrLink::id)
    }

    /// Every object IRI (a `Flag` names an account and posts).
    pub fn object_ids(&self) -> impl Iterator<Item = &str> {
        self.object.iter().filter_map(ObjectOrLink::id)
    }

    /// The embedded object, if the sender embedded one.
    pub fn object(&self) -> Option<&Object> {
        self.object.first().and_then(ObjectOrLink::as_object)
    }

    /// The embedded post (`Create`/`Update` of a `Note`…).
    pub fn object_note(&self) -> Option<&Note> {
        self.object().and_then(Object::as_note)
    }

    /// The embedded actor (`Update` of a `Person`…).
    pub fn object_actor(&self) -> Option<&Actor> {
        self.object().and_then(Object::as_actor)
    }

    /// The embedded activity (the `Follow` in an `Undo` or `Accept`).
    pub fn object_activity(&self) -> Option<&Activity> {
        self.object().and_then(Object::as_activity)
    }

    /// The target's IRI.
    pub fn target_id(&self) -> Option<&str> {
        self.target.as_ref().and_then(ObjectOrLink::id)
    }

    /// Mastodon's visibility of the activity's own addressing. For a
    /// `Create`, classify the embedded note instead ([`Note::audience`]):
    /// its `to`/`cc` win.
    pub fn audience(&self, followers_url: Option<&str>) -> Audience {
        audience(self.to.as_slice(), self.cc.as_slice(), followers_url)
    }

    /// `Create` for a local note, as Mastodon sends it: id `{note}/activity`,
    /// the note's author as actor, the note's `published`, `to` and `cc`
    /// copied, and the note embedded without its `@context` (which moves to
    /// the activity). The note must have an author, as [`NoteBuilder`]
    /// guarantees.
    ///
    /// [`NoteBuilder`]: crate::NoteBuilder
    pub fn create(mut note: Note) -> Self {
        debug_assert!(note.author_id().is_some(), "a note to send has an author");
        let context = note.context.take().unwrap_or_else(Context::stoa);
        Activity {
            context: Some(context),
            id: Some(format!("{}/activity", note.id)),
            kind: ActivityKind::Create,
            actor: ObjectOrLink::Link(note.author_id().unwrap_or_default().to_owned()),
            to: note.to.clone(),
            cc: note.cc.clone(),
            published: note.published,
            object: OneOrMany::one(ObjectOrLink::Object(Object::from(note))),
            target: None,
            content: None,
        }
    }

    /// `Update` for an edited local note: like [`Activity::create`], with the
    /// given id (Mastodon uses `{note}#updates/{unix time}`) and the note's
    /// `updated` time. The note must have `updated` set, or Mastodon
    /// ignores the edit.
    pub fn update_note(id: impl Into<String>, note: Note) -> Self {
        let updated = note.updated;
        let mut activity = Activity::create(note);
        activity.kind = ActivityKind::Update;
        activity.id = Some(id.into());
        activity.published = updated;
        activity
    }

    /// `Delete` of a local note, as Mastodon sends it: id `{note}#delete`,
    /// a `Tombstone` as object, addressed to the public collection (deletes
    /// are delivered to everyone who may have the post).
    pub fn delete_note(actor_id: impl Into<String>, note_id: impl Into<String>) -> Self {
        let note_id = note_id.into();
        let mut activity = Activity::new(
            ActivityKind::Delete,
            format!("{note_id}#delete"),
            actor_id,
            ObjectOrLink::Object(Object::from(Tombstone::new(note_id))),
        );
        activity.to = OneOrMany::many(vec![PUBLIC_COLLECTION.to_owned()]);
        activity
    }

    /// `Delete` of a local actor (a suspension), as Mastodon sends it: id
    /// `{actor}#delete`, the actor itself as object, to the public collection.
    pub fn delete_actor(actor_id: impl Into<String>) -> Self {
        let actor_id = actor_id.into();
        let mut activity = Activity::new(
            ActivityKind::Delete,
            format!("{actor_id}#delete"),
            actor_id.clone(),
            ObjectOrLink::link(actor_id),
        );
        activity.to = OneOrMany::many(vec![PUBLIC_COLLECTION.to_owned()]);
        activity
    }

    /// `Flag` (a report forwarded to the reported account's server): the
    /// account first, then the reported posts, and the comment as content.
    pub fn flag(
        id: impl Into<String>,
        actor_id: impl Into<String>,
        account_id: impl Into<String>,
        note_ids: &[String],
        comment: impl Into<String>,
    ) -> Self {
        let account_id = account_id.into();
        let mut activity = Activity::new(
            ActivityKind::Flag,
            id,
            actor_id,
            ObjectOrLink::link(account_id.clone()),
        );
        let objects = std::iter::once(ObjectOrLink::link(account_id))
            .chain(note_ids.iter().map(ObjectOrLink::link))
            .collect();
        activity.object = OneOrMany::many(objects);
        activity.content = Some(comment.into());
        activity
    }

    /// `Update` of a local actor's profile, as Mastodon sends it (id
    /// `{actor}#updates/{unix time}`), addressed to the public collection
    /// and embedding the actor without its `@context`.
    pub fn update_actor(id: impl Into<String>, mut actor: Actor) -> Self {
        let context = actor.context.take().unwrap_or_else(Context::stoa);
        let actor_id = actor.id.clone();
        let mut activity = Activity::new(
            ActivityKind::Update,
            id,
            actor_id,
            ObjectOrLink::Object(Object::from(actor)),
        );
        activity.context = Some(context);
        activity.to = OneOrMany::many(vec![PUBLIC_COLLECTION.to_owned()]);
        activity
    }

    /// `Follow` of `target_actor_id`.
    pub fn follow(
        id: impl Into<String>,
        actor_id: impl Into<String>,
        target_actor_id: impl Into<String>,
    ) -> Self {
        Activity::new(
            ActivityKind::Follow,
            id,
            actor_id,
            ObjectOrLink::link(target_actor_id),
        )
    }

    /// `Accept` of a received `Follow`, embedding it: Mastodon matches the
    /// acceptance by the Follow's id, other servers by its actor and object.
    pub fn accept(id: impl Into<String>, actor_id: impl Into<String>, follow: Activity) -> Self {
        Activity::new(ActivityKind::Accept, id, actor_id, Self::embedded(follow))
    }

    /// `Reject` of a received `Follow` (or removal of a follower), embedding
    /// it.
    pub fn reject(id: impl Into<String>, actor_id: impl Into<String>, follow: Activity) -> Self {
        Activity::new(ActivityKind::Reject, id, actor_id, Self::embedded(follow))
    }

    /// `Undo` of one of our own activities (`Follow`, `Like`, `Announce`,
    /// `Block`), embedding it, as Mastodon does.
    pub fn undo(id: impl Into<String>, actor_id: impl Into<String>, activity: Activity) -> Self {
        Activity::new(ActivityKind::Undo, id, actor_id, Self::embedded(activity))
    }

    /// `Like` (favourite) of a post.
    pub fn like(
        id: impl Into<String>,
        actor_id: impl Into<String>,
        note_id: impl Into<String>,
    ) -> Self {
        Activity::new(
            ActivityKind::Like,
            id,
            actor_id,
            ObjectOrLink::link(note_id),
        )
    }

    /// `Announce` (boost) of a public post, as Mastodon addresses it: to the
    /// public collection, cc the post's author and our followers.
    pub fn announce(
        id: impl Into<String>,
        actor_id: impl Into<String>,
        note_id: impl Into<String>,
        note_author_id: impl Into<String>,
        followers_url: impl Into<String>,
        published: DateTime<Utc>,
    ) -> Self {
        let mut activity = Activity::new(
            ActivityKind::Announce,
            id,
            actor_id,
            ObjectOrLink::link(note_id),
        );
        activity.to = OneOrMany::many(vec![PUBLIC_COLLECTION.to_owned()]);
        activity.cc = OneOrMany::many(vec![note_author_id.into(), followers_url.into()]);
        activity.published = Some(published);
        activity
    }

    /// `Block` of an actor.
    pub fn block(
        id: impl Into<String>,
        actor_id: impl Into<String>,
        target_actor_id: impl Into<String>,
    ) -> Self {
        Activity::new(
            ActivityKind::Block,
            id,
            actor_id,
            ObjectOrLink::link(target_actor_id),
        )
    }

    /// An activity embedded in another loses its `@context`.
    fn embedded(mut activity: Activity) -> ObjectOrLink<Object> {
        activity.context = None;
        ObjectOrLink::Object(Object::from(activity))
    }
}

impl HasId for Activity {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}
