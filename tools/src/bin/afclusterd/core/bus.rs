//! What subsystems tell each other. Messages are delivered in the order
//! they were published, to every subsystem, after the handler that
//! published them returns: no subsystem calls into another.

use std::rc::Rc;
use std::time::Instant;

use afcluster::balancer::RsId;
use afcluster::config::Config;
use afcluster::NodeState;

/// A node's state moving, for the notify_node script. `None` is "no such
/// node": before it was added, after it was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateChange {
    pub node: u32,
    pub old: Option<NodeState>,
    pub new: Option<NodeState>,
    pub seq: u64,
}

/// A checker's verdict on its real server, for the configuration
/// `generation` it was made under (a reload makes earlier ones void).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub generation: u64,
    pub id: RsId,
    pub checker: usize,
    pub ok: bool,
    /// misc_dynamic: the weight the exit status asks for.
    pub weight: Option<i32>,
    /// When the probe's result came in.
    pub at: Instant,
    /// The checker's first result: a failure of a server alpha started
    /// down changes nothing, yet keepalived runs its notify_down.
    pub first: bool,
}

#[derive(Debug)]
pub enum Message {
    /// SIGHUP, SIGUSR1 (SIGTERM, SIGINT and SIGCHLD are the loop's own).
    Signal(i32),
    /// A new configuration, read and valid; `Shared::generation` counts them.
    Reload(Rc<Config>),
    /// The reflection changed (`Shared::reflection`): seq, staleness, or
    /// both. `event_ns`: the kernel timestamp of the newest event applied.
    Reflection {
        event_ns: Option<u64>,
    },
    /// Node states that moved, in seq order.
    NodeChanges(Rc<Vec<StateChange>>),
    Verdicts(Rc<Vec<Verdict>>),
}
