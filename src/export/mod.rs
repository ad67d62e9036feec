//! Export to the serving engine: a flagd flag-definition file that serves what the
//! engine evaluates offline, and the check that it does.

mod flagd;
mod portability;
mod verify;

pub use flagd::{SCHEMA, to_flagd};
pub use portability::{Unportable, locate, unportable};
pub use verify::{Difference, Served, Verification, probe_generator, verify};
