//! Handles shown on our pages come from WebFinger (port, split domains), checked by the
//! round trip; an author's optional account domain (split-domain WebFinger).
