//! Faults that must heal and tell the truth: full and read-only disks, bad config,
//! arithmetic from outside.
