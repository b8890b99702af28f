//! The durable inbound queue, the mirror of `delivery/`: the door (verify, limit,
//! store, 202), the group-commit writer, the processor that applies what was stored,
//! and the one dispatch table from activity type to handler. It takes the protocol's
//! context and the parts it uses, never the app.

mod blocks;
pub mod dispatch;
pub mod door;
pub mod processor;
pub mod rate;
pub mod writer;

pub use blocks::{blocked_among, configured as configured_blocks, load as load_blocks};
pub use door::{Door, Receipt};
pub use processor::Processor;
