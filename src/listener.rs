//! The event listener: a non-blocking socket for a mio event loop that
//! receives the family's events, reports lost events instead of hiding them,
//! and notices the family leaving and coming back (module unload/reload)
//! through nlctrl's notifications -- no polling.

use std::io;

use mio::{event::Source, Interest, Registry, Token};
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::GenlMessage;

use crate::client::REQUEST_TIMEOUT;
use crate::error::{Error, Result};
use crate::message::{events_group_name, family_name, AfcMessage};
use crate::netlink::genl::{self, FamilyInfo, GenlSocket, GENL_ID_CTRL};
use crate::netlink::split_messages;
use crate::types::Event;

/// What a listener reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    Event(Event),
    /// The kernel dropped events for this socket (ENOBUFS): replay them
    /// with `Client::events_since` from the last sequence number applied
    /// (and the instance it belongs to).
    Lost,
    /// The family was registered (the module loaded) and the listener
    /// joined its group. Events before this point are not seen: resync.
    FamilyAppeared,
    /// The family was unregistered (the module unloaded).
    FamilyVanished,
    /// A message that could not be decoded (say, from a newer module);
    /// what it said is unknown: resync.
    Malformed(String),
}

pub struct EventListener {
    sock: GenlSocket,
    /// Blocking, for nlctrl lookups; never joined to a group.
    req: GenlSocket,
    family: Option<FamilyInfo>,
}

impl EventListener {
    /// Subscribe to nlctrl's notifications, then to the family's events if
    /// it is registered (else wait for it: see `Notification::FamilyAppeared`).
    /// `rcvbuf`: the socket's receive buffer in bytes (kernel default if None).
    pub fn new(rcvbuf: Option<usize>) -> Result<EventListener> {
        let sock = GenlSocket::new()?;
        if let Some(n) = rcvbuf {
            sock.socket().set_rx_buf_sz(n)?;
        }
        // Requests go over a socket of their own, so that no notification
        // is consumed while waiting for a reply.
        let mut req = GenlSocket::new()?;
        req.set_read_timeout(REQUEST_TIMEOUT)?;
        let ctrl = genl::resolve_family(&mut req, "nlctrl")?
            .ok_or_else(|| io::Error::other("the kernel has no nlctrl family"))?;
        let notify = ctrl
            .group("notify")
            .ok_or_else(|| io::Error::other("nlctrl has no notify group"))?;
        // Join nlctrl first: the family appearing after this is noticed.
        sock.socket().add_membership(notify)?;
        let family = genl::resolve_family(&mut req, family_name())?;
        let mut listener = EventListener {
            sock,
            req,
            family: None,
        };
        if let Some(f) = family {
            listener.join(f)?;
        }
        listener.sock.socket().set_non_blocking(true)?;
        Ok(listener)
    }

    /// Whether the family is registered (as far as this listener knows).
    pub fn family_present(&self) -> bool {
        self.family.is_some()
    }

    /// The receive buffer the kernel granted.
    pub fn rcvbuf(&self) -> Result<usize> {
        Ok(self.sock.socket().get_rx_buf_sz()?)
    }

    fn join(&mut self, f: FamilyInfo) -> Result<()> {
        let group = f.group(events_group_name()).ok_or_else(|| {
            Error::Decode(format!(
                "family {} has no group {}",
                f.name,
                events_group_name()
            ))
        })?;
        self.sock.socket().add_membership(group)?;
        self.family = Some(f);
        Ok(())
    }

    /// Read everything queued (mio is edge-triggered: this drains the
    /// socket until it would block) and append it to `out`.
    pub fn read(&mut self, out: &mut Vec<Notification>) -> Result<()> {
        loop {
            match self.sock.recv() {
                Ok(buf) => self.decode(&buf, out)?,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    // nlctrl's notifications may have been dropped too:
                    // learn whether the family is still the one we follow.
                    if !self.recheck(out)? && out.last() != Some(&Notification::Lost) {
                        // Collapse consecutive losses: one replay covers them.
                        out.push(Notification::Lost);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Ask nlctrl whether the family is registered, and whether it is the
    /// same registration we follow (genetlink gives each registration a new
    /// id, cyclically); report a change as if its notifications had come.
    /// Returns whether anything changed. For after a loss, when NEWFAMILY
    /// or DELFAMILY may have been among the messages dropped; a request that
    /// answers "not loaded" while the listener thinks otherwise is another
    /// such moment.
    pub fn recheck(&mut self, out: &mut Vec<Notification>) -> Result<bool> {
        let now = genl::resolve_family(&mut self.req, family_name())?;
        if now.as_ref().map(|f| f.id) == self.family.as_ref().map(|f| f.id) {
            return Ok(false);
        }
        if self.family.take().is_some() {
            out.push(Notification::FamilyVanished);
        }
        if let Some(f) = now {
            self.join(f)?;
            out.push(Notification::FamilyAppeared);
        }
        Ok(true)
    }

    fn decode(&mut self, buf: &[u8], out: &mut Vec<Notification>) -> Result<()> {
        let msgs = match split_messages(buf) {
            Ok(m) => m,
            Err(e) => {
                out.push(Notification::Malformed(Error::from(e).to_string()));
                return Ok(());
            }
        };
        for (header, bytes) in msgs {
            let ty = header.message_type;
            if ty == GENL_ID_CTRL {
                self.decode_ctrl(bytes, out)?;
            } else if Some(ty) == self.family.as_ref().map(|f| f.id) {
                out.push(decode_event(bytes));
            }
        }
        Ok(())
    }

    fn decode_ctrl(&mut self, bytes: &[u8], out: &mut Vec<Notification>) -> Result<()> {
        let msg = match NetlinkMessage::<GenlMessage<GenlCtrl>>::deserialize(bytes) {
            Ok(m) => m,
            // nlctrl sends messages this crate's codec does not know
            // (policy dumps); none of them concern us.
            Err(_) => return Ok(()),
        };
        let NetlinkPayload::InnerMessage(genl) = msg.payload else {
            return Ok(());
        };
        let ctrl = genl.payload;
        let Some(info) = FamilyInfo::from_ctrl(&ctrl) else {
            return Ok(());
        };
        if info.name != family_name() {
            return Ok(());
        }
        let known = self.family.as_ref().map(|f| f.id);
        match ctrl.cmd {
            GenlCtrlCmd::NewFamily if known != Some(info.id) => {
                // A new registration; if DELFAMILY of the old one was
                // lost, say it went away first.
                if self.family.take().is_some() {
                    out.push(Notification::FamilyVanished);
                }
                self.join(info)?;
                out.push(Notification::FamilyAppeared);
            }
            GenlCtrlCmd::DelFamily if known == Some(info.id) => {
                self.family = None;
                out.push(Notification::FamilyVanished);
            }
            _ => {}
        }
        Ok(())
    }
}

/// One EVENT_NTF message (or an EVENT_GET reply, which carries the same
/// attributes), or what was wrong with it.
pub fn decode_event(bytes: &[u8]) -> Notification {
    let parsed = NetlinkMessage::<GenlMessage<AfcMessage>>::deserialize(bytes)
        .map_err(|e| e.to_string())
        .and_then(|m| match m.payload {
            NetlinkPayload::InnerMessage(g) => {
                Event::try_from(&g.payload).map_err(|e| e.to_string())
            }
            other => Err(format!("unexpected message {other:?}")),
        });
    match parsed {
        Ok(ev) => Notification::Event(ev),
        Err(e) => Notification::Malformed(e),
    }
}

impl Source for EventListener {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        self.sock.socket_mut().register(r, t, i)
    }

    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        self.sock.socket_mut().reregister(r, t, i)
    }

    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        self.sock.socket_mut().deregister(r)
    }
}
