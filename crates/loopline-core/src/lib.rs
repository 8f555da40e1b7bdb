//! Domain types shared by every Loopline crate and, through generated bindings, by the UI.
//!
//! No I/O lives here: this crate must stay cheap to depend on and trivial to test.

mod bindings;
mod error;
mod receiver;

pub use bindings::{typescript_bindings, BINDINGS_HEADER};
pub use error::{ApiError, ErrorCode};
pub use receiver::{AppInfo, Health, ReceiverState, ReceiverStatus};

/// The version every binary reports, taken from the workspace.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
