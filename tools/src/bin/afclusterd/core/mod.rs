//! The daemon's core, which every subsystem plugs into.
//!
//! How no subsystem waits on another: the logic of every subsystem runs
//! on one thread, in one loop ([`Reactor`]), and its handlers never block;
//! the only work that does block — the kernel's synchronous netlink
//! requests: IPVS changes, and the afcluster dumps and replays — runs in a
//! thread owned by the subsystem that needs it, which reports back
//! through a [`Wake`]. keepalived gets the same isolation by running VRRP
//! and the checkers as separate processes; threads give it without the
//! IPC, and keep the logic single-threaded, so it stays deterministic and
//! testable with scripted inputs.

pub mod bus;
pub mod children;
pub mod latency;
pub mod reactor;
pub mod timers;
pub mod tokens;

pub use bus::{Message, StateChange, Verdict};
pub use children::Exit;
pub use latency::Latency;
pub use reactor::{Cx, Reactor, Shared, Subsystem, Wake};
pub use timers::TimerId;
