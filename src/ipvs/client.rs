//! The blocking IPVS request client.

use std::net::IpAddr;

use super::error::IpvsError;
use super::types::{Change, Dest, DestEntry, Info, Service, ServiceKey, SyncDaemon, SyncState};
use super::wire::{self, IpvsMessage};
use crate::client::REQUEST_TIMEOUT;
use crate::netlink::genl::{self, FamilyInfo, GenlSocket};

/// A socket for IPVS requests. Each call waits for the kernel's answer
/// (at most [`REQUEST_TIMEOUT`], like [`crate::Client`]).
#[derive(Debug)]
pub struct Ipvs {
    sock: GenlSocket,
    family: FamilyInfo,
}

fn resolve(sock: &mut GenlSocket) -> Result<Option<FamilyInfo>, IpvsError> {
    genl::resolve_family(sock, wire::family_name()).map_err(IpvsError::from_netlink)
}

impl Ipvs {
    /// Open a socket and resolve the family "IPVS". Asking for it makes the
    /// kernel load ip_vs if it can (see the module documentation);
    /// `NotAvailable` when it still is not there.
    pub fn connect() -> Result<Ipvs, IpvsError> {
        let mut sock = GenlSocket::new()?;
        sock.set_read_timeout(REQUEST_TIMEOUT)?;
        let family = resolve(&mut sock)?.ok_or(IpvsError::NotAvailable)?;
        Ok(Ipvs { sock, family })
    }

    /// The family's id, as nlctrl gave it.
    pub fn family_id(&self) -> u16 {
        self.family.id
    }

    fn call_once(&mut self, msg: IpvsMessage, dump: bool) -> Result<Vec<IpvsMessage>, IpvsError> {
        let sent = self.sock.send(self.family.id, msg, dump)?;
        let replies = genl::receive::<IpvsMessage>(&self.sock, &sent)
            .map_err(|e| wire::classify(&sent.bytes, e))?;
        Ok(replies.into_iter().map(|(_, m)| m).collect())
    }

    fn call(&mut self, msg: IpvsMessage, dump: bool) -> Result<Vec<IpvsMessage>, IpvsError> {
        match self.call_once(msg.clone(), dump) {
            // ENOENT is also genetlink's answer for an unknown family id:
            // ip_vs was unloaded, or reloaded under a new id.
            Err(e @ (IpvsError::NotFound | IpvsError::UnknownScheduler { .. })) => {
                match resolve(&mut self.sock)? {
                    None => Err(IpvsError::NotAvailable),
                    Some(f) if f.id != self.family.id => {
                        // The request never reached IPVS: safe to resend.
                        self.family = f;
                        self.call_once(msg, dump)
                    }
                    Some(_) => Err(e),
                }
            }
            r => r,
        }
    }

    /// Every service of this network namespace.
    pub fn services(&mut self) -> Result<Vec<Service>, IpvsError> {
        self.call(wire::get_services(), true)?
            .iter()
            .map(wire::decode_service)
            .collect()
    }

    /// One service; `NotFound` when there is none with this key.
    pub fn service(&mut self, key: &ServiceKey) -> Result<Service, IpvsError> {
        let replies = self.call(wire::get_service(key)?, false)?;
        let msg = replies
            .first()
            .ok_or_else(|| IpvsError::Decode("no reply to GET_SERVICE".into()))?;
        wire::decode_service(msg)
    }

    /// The destinations of a service; `NotFound` when there is no such
    /// service.
    pub fn dests(&mut self, key: &ServiceKey) -> Result<Vec<Dest>, IpvsError> {
        Ok(self
            .dest_entries(key)?
            .into_iter()
            .map(|e| e.dest)
            .collect())
    }

    /// The destinations with their connection counters.
    pub fn dest_entries(&mut self, key: &ServiceKey) -> Result<Vec<DestEntry>, IpvsError> {
        let replies = self.call(wire::get_dests(key)?, true)?;
        if replies.is_empty() {
            // The dump of a missing service is empty, not an error: ask.
            self.service(key)?;
        }
        let family = key.family();
        replies
            .iter()
            .map(|m| wire::decode_dest(m, family))
            .collect()
    }

    /// Every service with its destinations. A service deleted while this
    /// runs is left out.
    pub fn table(&mut self) -> Result<Vec<(Service, Vec<Dest>)>, IpvsError> {
        let mut out = Vec::new();
        for s in self.services()? {
            match self.dests(&s.key) {
                Ok(d) => out.push((s, d)),
                Err(IpvsError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// `Exists` when the key is taken; `UnknownScheduler` when the kernel
    /// has no such scheduler module.
    pub fn add_service(&mut self, s: &Service) -> Result<(), IpvsError> {
        self.call(wire::new_service(s)?, false).map(drop)
    }

    /// Change a service's settings (found by its key) to these.
    pub fn edit_service(&mut self, s: &Service) -> Result<(), IpvsError> {
        self.call(wire::set_service(s)?, false).map(drop)
    }

    /// Delete a service and its destinations.
    pub fn del_service(&mut self, key: &ServiceKey) -> Result<(), IpvsError> {
        self.call(wire::del_service(key)?, false).map(drop)
    }

    /// `NotFound` without the service, `Exists` when the destination is
    /// already there.
    pub fn add_dest(&mut self, key: &ServiceKey, d: &Dest) -> Result<(), IpvsError> {
        self.call(wire::new_dest(key, d)?, false).map(drop)
    }

    /// Change a destination (found by address and port) to these settings.
    pub fn edit_dest(&mut self, key: &ServiceKey, d: &Dest) -> Result<(), IpvsError> {
        self.call(wire::set_dest(key, d)?, false).map(drop)
    }

    pub fn del_dest(&mut self, key: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), IpvsError> {
        self.call(wire::del_dest(key, addr, port)?, false).map(drop)
    }

    /// Delete every service of this network namespace (ipvsadm -C).
    /// Make one change of the table.
    pub fn apply(&mut self, c: &Change) -> Result<(), IpvsError> {
        match c {
            Change::AddService(s) => self.add_service(s),
            Change::EditService(s) => self.edit_service(s),
            Change::DelService(k) => self.del_service(k),
            Change::AddDest(k, d) => self.add_dest(k, d),
            Change::EditDest(k, d) => self.edit_dest(k, d),
            Change::DelDest(k, a, p) => self.del_dest(k, *a, *p),
        }
    }

    pub fn flush(&mut self) -> Result<(), IpvsError> {
        self.call(wire::flush(), false).map(drop)
    }

    /// Start a connection-sync daemon (ipvsadm --start-daemon).
    /// `DaemonRunning` when one of this state already runs (its settings
    /// are not changed: stop it first), `NoSuchInterface` without the
    /// interface, `Invalid` for a name or sync id out of range or a group
    /// that is not multicast. The kernel answers EINVAL (`Kernel`) while a
    /// service has a destination of the other address family: the sync
    /// protocol cannot carry those.
    pub fn start_daemon(&mut self, d: &SyncDaemon) -> Result<(), IpvsError> {
        self.call(wire::new_daemon(d)?, false).map(drop)
    }

    /// Stop the sync daemon of this state (ipvsadm --stop-daemon);
    /// `DaemonNotRunning` when none runs. The kernel finds it by its state
    /// alone: a network namespace has at most one of each.
    pub fn stop_daemon(&mut self, state: SyncState) -> Result<(), IpvsError> {
        self.call(wire::del_daemon(state), false).map(drop)
    }

    /// The running sync daemons of this network namespace, the master
    /// first (ipvsadm -L --daemon).
    pub fn daemons(&mut self) -> Result<Vec<SyncDaemon>, IpvsError> {
        self.call(wire::get_daemons(), true)?
            .iter()
            .map(wire::decode_daemon)
            .collect()
    }

    /// The IPVS version and connection table size.
    pub fn info(&mut self) -> Result<Info, IpvsError> {
        let replies = self.call(wire::get_info(), false)?;
        let msg = replies
            .first()
            .ok_or_else(|| IpvsError::Decode("no reply to GET_INFO".into()))?;
        wire::decode_info(msg)
    }
}
