//! The hostile suite: each test attacks the real server over loopback as a stranger
//! on the internet would (a purpose-built attacker that signs as its own actors, lies
//! in its documents, drips bytes and holds connections) and asserts the answer, what
//! was stored, what was fetched, and that memory stays bounded. The attacks are grouped
//! by the layer that stops them.

mod door;
mod edge;
mod faults;
mod identity;
