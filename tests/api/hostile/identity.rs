//! Attacks on identity: forged keys, lying documents, clock windows, key sizes, and
//! what a refused request may cost.
