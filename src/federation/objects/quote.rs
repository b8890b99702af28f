//! FEP-044f as Mastodon 4.5 speaks it: a post's `interactionPolicy.canQuote`, and the
//! `QuoteAuthorization` stamp we serve for each quote we approved (docs/PEERS.md §2).

use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    db::{posts::PostRow, quotes::QuoteRow},
    domain::QuotePolicy,
    federation::PUBLIC,
    uris::Uris,
};

/// The JSON-LD terms of FEP-044f and GoToSocial's interaction policies, as Mastodon's
/// context names them.
pub fn context_terms() -> Value {
    json!({
        "gts": "https://gotosocial.org/ns#",
        "interactionPolicy": { "@id": "gts:interactionPolicy", "@type": "@id" },
        "canQuote": { "@id": "gts:canQuote", "@type": "@id" },
        "automaticApproval": { "@id": "gts:automaticApproval", "@type": "@id" },
        "manualApproval": { "@id": "gts:manualApproval", "@type": "@id" },
        "interactingObject": { "@id": "gts:interactingObject" },
        "interactionTarget": { "@id": "gts:interactionTarget" },
        "QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest",
        "QuoteAuthorization": "https://w3id.org/fep/044f#QuoteAuthorization",
        "quote": { "@id": "https://w3id.org/fep/044f#quote", "@type": "@id" },
        "quoteAuthorization": { "@id": "https://w3id.org/fep/044f#quoteAuthorization", "@type": "@id" }
    })
}

/// `interactionPolicy` of a post: who is approved automatically. Mastodon reads Public
/// as anyone, our followers collection as followers, and the author alone as nobody
/// else (M `app/lib/activitypub/parser/status_parser.rb:179-196`).
pub fn interaction_policy(post: &PostRow, uris: &Uris) -> Value {
    let who = match post.quote_policy.unwrap_or(QuotePolicy::Anyone) {
        QuotePolicy::Anyone => PUBLIC.to_owned(),
        QuotePolicy::Followers => uris.followers(&post.author),
        QuotePolicy::Nobody => uris.actor(&post.author),
    };
    json!({ "canQuote": { "automaticApproval": [who] } })
}

/// The stamp a quoting server (and any third server) dereferences to check a quote.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteAuthorization {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attributed_to: String,
    pub interacting_object: String,
    pub interaction_target: String,
}

pub fn authorization(quote: &QuoteRow, post: &PostRow, uris: &Uris) -> QuoteAuthorization {
    QuoteAuthorization {
        id: uris.quote_authorization(&post.author, &quote.token),
        kind: "QuoteAuthorization",
        attributed_to: uris.actor(&post.author),
        interacting_object: quote.quote_ap_id.clone(),
        interaction_target: uris.post(&post.author, &post.slug),
    }
}
