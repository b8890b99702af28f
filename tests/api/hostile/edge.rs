//! Attacks on the HTTP edge: connections, slow reads, paths, labels, pages.
