//! Collections: outboxes, follower lists, `featured`, `replies`, and their
//! pages.

use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::kinds::CollectionKind;
use crate::object::Object;
use crate::values::{HasId, ObjectOrLink, OneOrMany};

/// A `Collection`, `OrderedCollection`, `CollectionPage` or
/// `OrderedCollectionPage`; [`Collection::kind`] says which.
///
/// One struct serves all four because servers mix them freely (Mastodon's
/// `replies` is a `Collection` whose `first` is an embedded `CollectionPage`;
/// its outbox is an `OrderedCollection` whose `first` is a link). Like
/// Mastodon, read [`Collection::items`], which takes `orderedItems` or
/// `items`, whichever is present, and follow `first` then `next`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    /// Present on top-level documents.
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The collection's IRI (absent on some embedded pages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Which of the four collection types this is.
    #[serde(rename = "type")]
    pub kind: CollectionKind,
    /// The size of the whole collection (hidden collections show only this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_items: Option<u64>,
    /// The first page, linked or embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<ObjectOrLink<Box<Collection>>>,
    /// The last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<ObjectOrLink<Box<Collection>>>,
    /// On a page: the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<ObjectOrLink<Box<Collection>>>,
    /// On a page: the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<ObjectOrLink<Box<Collection>>>,
    /// On a page: the collection it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_of: Option<String>,
    /// Items of an ordered collection or page: ids or embedded objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered_items: Option<OneOrMany<ObjectOrLink<Object>>>,
    /// Items of an unordered collection or page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<OneOrMany<ObjectOrLink<Object>>>,
}

impl Collection {
    /// An empty collection of the given kind, with no context.
    pub fn new(kind: CollectionKind, id: Option<String>) -> Self {
        Collection {
            context: None,
            id,
            kind,
            total_items: None,
            first: None,
            last: None,
            next: None,
            prev: None,
            part_of: None,
            ordered_items: None,
            items: None,
        }
    }

    /// The items on this document: `orderedItems`, else `items`.
    pub fn items(&self) -> &[ObjectOrLink<Object>] {
        self.ordered_items
            .as_ref()
            .or(self.items.as_ref())
            .map(OneOrMany::as_slice)
            .unwrap_or_default()
    }

    /// The ids of the items on this document (items without an id are
    /// skipped).
    pub fn item_ids(&self) -> impl Iterator<Item = &str> {
        self.items().iter().filter_map(ObjectOrLink::id)
    }

    /// Whether the items have a meaningful order.
    pub fn is_ordered(&self) -> bool {
        matches!(
            self.kind,
            CollectionKind::OrderedCollection | CollectionKind::OrderedCollectionPage
        )
    }

    /// Whether this is a page of a larger collection.
    pub fn is_page(&self) -> bool {
        matches!(
            self.kind,
            CollectionKind::CollectionPage | CollectionKind::OrderedCollectionPage
        )
    }

    /// The IRI of the next page to fetch: `next` on a page, `first` on a
    /// collection. `None` when an embedded page has no id, or at the end.
    pub fn next_page_id(&self) -> Option<&str> {
        let next = if self.is_page() {
            self.next.as_ref()
        } else {
            self.first.as_ref()
        };
        next.and_then(ObjectOrLink::id)
    }
}

impl HasId for Collection {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}
