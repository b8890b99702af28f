//! FEP-044f quote consent: QuoteRequest answered with Accept and a dereferenceable
//! QuoteAuthorization, policies, revocation, and quotes listed on the post's page.
