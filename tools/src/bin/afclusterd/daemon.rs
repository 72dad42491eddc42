//! The daemon: its subsystems on the core's loop.

use std::io;
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use afcluster::balancer::Balancer;
use afcluster::config::Config;
use afcluster::Reflection;

use crate::checks::Checks;
use crate::control_server::Control;
use crate::core::{Reactor, Shared};
use crate::lifecycle::Lifecycle;
use crate::lvs::Lvs;
use crate::notify_hook::NotifyHook;
use crate::reflection::ReflectionSync;
use crate::vrrp::Vrrp;
use afcluster_tools::daemon::daemonize::Readiness;

pub struct Daemon {
    reactor: Reactor,
}

impl Daemon {
    /// Subscribe and listen. Errors here stop the daemon: it cannot do its
    /// job without its sockets. `readiness` is taken only on success.
    pub fn new(
        config: Config,
        config_path: &Path,
        readiness: &mut Option<Readiness>,
    ) -> io::Result<Daemon> {
        let g = &config.global;
        let reflection = ReflectionSync::new(g.events_rcv_bufs)
            .map_err(|e| io::Error::other(format!("cannot subscribe to afcluster events: {e}")))?;
        let (listener, socket) = Control::bind(&g.control_socket, g.control_socket_mode)?;
        let control = Control::new(listener, socket, g.control_socket_mode);
        let hook = NotifyHook::new(g.notify_node.clone(), g.notify_node_timeout);
        let lvs = Lvs::new(&config);
        let shared = Shared {
            reflection: Reflection::new(),
            balancer: Balancer::new(config.virtual_servers.clone()),
            config: Rc::new(config),
            config_path: config_path.to_path_buf(),
            generation: 0,
            started: Instant::now(),
        };
        let mut reactor = Reactor::new(shared)?;
        // Every message reaches the subsystems in this order: where one
        // reads what another wrote for the same message, the writer comes
        // first (lvs reconfigures the balancer that the checkers rebuild
        // from).
        reactor.add(Box::new(reflection));
        // Right after the reflection: an instance tracking a node reacts
        // to its change before anything else does.
        reactor.add(Box::new(Vrrp::new()));
        reactor.add(Box::new(hook));
        reactor.add(Box::new(lvs));
        reactor.add(Box::new(Checks::default()));
        reactor.add(Box::new(control));
        // Taken last: if anything above failed, the caller tells the parent.
        reactor.add(Box::new(Lifecycle::new(readiness.take())));
        reactor.start();
        Ok(Daemon { reactor })
    }

    /// Run until SIGTERM/SIGINT; every subsystem has stopped on return.
    pub fn run(&mut self) -> io::Result<()> {
        self.reactor.run()
    }
}

#[cfg(test)]
mod bench;
#[cfg(test)]
mod tests;
