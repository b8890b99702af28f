//! OrderedCollection and its pages, as Mastodon walks them (`first`, `next`, `totalItems`).

use serde::Serialize;

use crate::federation::context;

/// Items per collection page (replies have their own size, `[limits.pages]`).
pub const PAGE_SIZE: i64 = 20;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderedCollection {
    #[serde(rename = "@context")]
    pub context: serde_json::Value,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub total_items: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordered_items: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderedCollectionPage {
    /// Null (left out) on a page embedded in its collection.
    #[serde(
        rename = "@context",
        skip_serializing_if = "serde_json::Value::is_null"
    )]
    pub context: serde_json::Value,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub part_of: String,
    pub total_items: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    pub ordered_items: Vec<serde_json::Value>,
}

/// Number of pages for `total` items, `per_page` a page (at least one, so `first`
/// always exists).
pub fn page_count(total: i64, per_page: i64) -> i64 {
    let pages = total
        .max(0)
        .unsigned_abs()
        .div_ceil(per_page.max(1).unsigned_abs());
    i64::try_from(pages).unwrap_or(i64::MAX).max(1)
}

fn page_url(collection: &str, page: i64) -> String {
    format!("{collection}?page={page}")
}

/// The collection's front document: total and links to the first and last pages.
pub fn collection(id: String, total: i64, per_page: i64) -> OrderedCollection {
    OrderedCollection {
        context: context(),
        first: Some(page_url(&id, 1)),
        last: Some(page_url(&id, page_count(total, per_page))),
        id,
        kind: "OrderedCollection",
        total_items: total,
        ordered_items: None,
    }
}

/// A collection small enough to be inlined (e.g. `following`, `featured`).
pub fn inline_collection(id: String, items: Vec<serde_json::Value>) -> OrderedCollection {
    OrderedCollection {
        context: context(),
        id,
        kind: "OrderedCollection",
        total_items: items.len() as i64,
        first: None,
        last: None,
        ordered_items: Some(items),
    }
}

/// Page `page` (1-based) of a collection, `per_page` items a page.
pub fn page(
    collection: &str,
    (page, per_page): (i64, i64),
    total: i64,
    items: Vec<serde_json::Value>,
) -> OrderedCollectionPage {
    OrderedCollectionPage {
        context: context(),
        id: page_url(collection, page),
        kind: "OrderedCollectionPage",
        part_of: collection.to_owned(),
        total_items: total,
        next: (page < page_count(total, per_page)).then(|| page_url(collection, page + 1)),
        prev: (page > 1).then(|| page_url(collection, page - 1)),
        ordered_items: items,
    }
}

/// A collection with its first page inside: Mastodon serves `replies` so and reads
/// the embedded page without a fetch; GoToSocial walks only an embedded page.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PagedCollection {
    /// Left out where the collection is embedded in an object.
    #[serde(rename = "@context", skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Whose conversation it is (FEP-7888), on a `context` collection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributed_to: Option<String>,
    pub total_items: i64,
    pub first: OrderedCollectionPage,
    pub last: String,
}

/// `id` with its first page (`first_items`, `per_page` a page) embedded.
pub fn with_first_page(
    id: String,
    total: i64,
    per_page: i64,
    first_items: Vec<serde_json::Value>,
) -> PagedCollection {
    let mut first = page(&id, (1, per_page), total, first_items);
    first.context = serde_json::Value::Null;
    PagedCollection {
        context: None,
        last: page_url(&id, page_count(total, per_page)),
        id,
        kind: "OrderedCollection",
        attributed_to: None,
        total_items: total,
        first,
    }
}
