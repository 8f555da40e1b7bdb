//! Loopline's engine: the one API behind both the desktop app and the `loopline` CLI.
//!
//! Nothing here knows about windows or terminals; both front ends are thin adapters.

mod engine;
mod listen;
mod paths;
mod receiver;

pub use engine::{Engine, EngineOptions, DEFAULT_LISTEN};
pub use listen::{parse_listen, suggest_free_addr};
pub use paths::default_data_dir;
pub use receiver::Receiver;
