use serde::Serialize;

use super::iso8601;
use crate::{db::authors::AuthorRow, domain::ProfileField, federation::context, uris::Uris};

/// A Person as Mastodon reads it (INTEROP.md lists the fields).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    #[serde(rename = "@context")]
    pub context: serde_json::Value,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub preferred_username: String,
    pub name: String,
    pub summary: String,
    pub url: String,
    pub inbox: String,
    pub outbox: String,
    pub followers: String,
    pub following: String,
    pub featured: String,
    pub endpoints: Endpoints,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<Image>,
    /// The header image Mastodon shows atop the profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    pub attachment: Vec<PropertyValue>,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub published: String,
    pub public_key: PublicKey,
    /// The author's other accounts: lets followers move here from them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_known_as: Vec<String>,
    /// Domains whose pages may credit this author: Mastodon shows the author under a
    /// link preview of a page with `fediverse:creator` only from these (and subdomains).
    pub attribution_domains: Vec<String>,
    /// Where the author moved (after `fedblog move`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    pub shared_inbox: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub media_type: String,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct PropertyValue {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    pub id: String,
    pub owner: String,
    pub public_key_pem: String,
}

/// Builds an author's actor document. `attribution_domains` are the configured domains
/// besides ours.
pub fn person(author: &AuthorRow, uris: &Uris, attribution_domains: &[String]) -> Person {
    let handle = &author.handle;
    let id = uris.actor(handle);
    Person {
        context: context(),
        preferred_username: handle.to_string(),
        name: author.name.clone(),
        summary: author.bio_html.clone(),
        url: id.clone(),
        inbox: uris.inbox(handle),
        outbox: uris.outbox(handle),
        followers: uris.followers(handle),
        following: uris.following(handle),
        featured: uris.featured(handle),
        endpoints: Endpoints {
            shared_inbox: uris.shared_inbox(),
        },
        icon: image(&author.avatar_file, &author.avatar_media_type, |f| {
            uris.avatar(handle, f)
        }),
        image: image(&author.header_file, &author.header_media_type, |f| {
            uris.header(handle, f)
        }),
        attachment: author
            .fields
            .iter()
            .map(|f: &ProfileField| PropertyValue {
                kind: "PropertyValue",
                name: f.name.clone(),
                value: f.value_html.clone(),
            })
            .collect(),
        manually_approves_followers: false,
        discoverable: true,
        indexable: true,
        published: iso8601(author.created_at),
        public_key: PublicKey {
            id: uris.key_id(handle),
            owner: id.clone(),
            public_key_pem: author.public_key_pem.clone(),
        },
        also_known_as: author.also_known_as.clone(),
        attribution_domains: attribution_domains_of(uris, attribution_domains),
        moved_to: author.moved_to.clone(),
        kind: "Person",
        id,
    }
}

/// A profile image that is set (file and media type), at the URL `url` gives its file.
fn image(
    file: &Option<String>,
    media_type: &Option<String>,
    url: impl Fn(&str) -> String,
) -> Option<Image> {
    match (file, media_type) {
        (Some(file), Some(mt)) => Some(Image {
            kind: "Image",
            media_type: mt.clone(),
            url: url(file),
        }),
        _ => None,
    }
}

/// The instance actor, as Mastodon publishes its own: an Application named after the
/// domain whose key signs our GETs. It is always public (servers in secure mode fetch
/// it to verify those GETs) and carries only what that needs.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    #[serde(rename = "@context")]
    pub context: serde_json::Value,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub preferred_username: String,
    pub url: String,
    pub inbox: String,
    pub endpoints: Endpoints,
    pub manually_approves_followers: bool,
    pub public_key: PublicKey,
}

/// Builds the instance actor's document.
pub fn application(uris: &Uris, public_key_pem: String) -> Application {
    let id = uris.instance_actor();
    Application {
        context: context(),
        preferred_username: uris.host().to_owned(),
        url: uris.home(),
        inbox: uris.shared_inbox(),
        endpoints: Endpoints {
            shared_inbox: uris.shared_inbox(),
        },
        manually_approves_followers: true,
        public_key: PublicKey {
            id: uris.instance_key_id(),
            owner: id.clone(),
            public_key_pem,
        },
        kind: "Application",
        id,
    }
}

/// Our host and the configured domains, as bare host names (Mastodon compares hosts and
/// their parent domains), each once.
fn attribution_domains_of(uris: &Uris, configured: &[String]) -> Vec<String> {
    let mut domains = vec![uris.host().to_ascii_lowercase()];
    for d in configured {
        let d = d.trim();
        let d = d
            .strip_prefix("https://")
            .or_else(|| d.strip_prefix("http://"))
            .unwrap_or(d);
        let d = d
            .strip_prefix("*.")
            .unwrap_or(d)
            .trim_end_matches('/')
            .to_ascii_lowercase();
        if !d.is_empty() && !domains.contains(&d) {
            domains.push(d);
        }
    }
    domains
}
