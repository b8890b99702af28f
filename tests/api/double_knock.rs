//! Outgoing RFC 9421 signatures with the draft-cavage fallback (double-knocking), the
//! per-host memory of what works, and FEP-8fcf follower synchronisation.
