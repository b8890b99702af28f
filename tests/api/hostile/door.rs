//! Attacks on the inbox door before verification: rate limits keyed on the peer, blocks
//! on normalised hosts, quotas and fair processing.
