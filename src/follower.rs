//! [`Resync`] over real sockets: a blocking follower that subscribes,
//! makes the requests the state machine asks for, and waits on the
//! listener (and on a retry's backoff) in between. For a thread or a
//! command of its own; an event loop can drive [`Resync`] itself.

use std::io;
use std::time::Instant;

use log::warn;
use mio::{Events, Interest, Poll, Token};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::listener::{EventListener, Notification};
use crate::resync::{Goal, Output, Request, Resync, ResyncStats};

const LISTENER: Token = Token(0);

pub struct Follower {
    listener: EventListener,
    client: Option<Client>,
    resync: Resync,
    poll: Poll,
    events: Events,
    notes: Vec<Notification>,
    retry_at: Option<Instant>,
}

impl Follower {
    /// Subscribe (the module may not be loaded: it is then waited for).
    /// `rcvbuf`: the event socket's receive buffer in bytes.
    pub fn new(goal: Goal, rcvbuf: Option<usize>) -> Result<Follower> {
        let mut listener = EventListener::new(rcvbuf)?;
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let resync = Resync::new(goal, listener.family_present());
        Ok(Follower {
            listener,
            client: None,
            resync,
            poll,
            events: Events::with_capacity(4),
            notes: Vec::new(),
            retry_at: None,
        })
    }

    pub fn stats(&self) -> &ResyncStats {
        self.resync.stats()
    }

    /// Whether the module is loaded, as far as the listener knows.
    pub fn family_present(&self) -> bool {
        self.listener.family_present()
    }

    /// Block until there is something to report, and append it to `out`.
    /// Errors are the follower's own sockets failing, not the kernel's
    /// answers (those are retried or reported in `out`).
    pub fn next(&mut self, out: &mut Vec<Output>) -> Result<()> {
        loop {
            self.make_requests(out);
            if !out.is_empty() {
                return Ok(());
            }
            let timeout = self
                .retry_at
                .map(|t| t.saturating_duration_since(Instant::now()));
            if let Err(e) = self.poll.poll(&mut self.events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e.into());
                }
            }
            if self.retry_at.is_some_and(|t| t <= Instant::now()) {
                self.retry_at = None;
                self.resync.retry();
            }
            if let Err(e) = self.listener.read(&mut self.notes) {
                // What the socket held is unknown: as good as a loss.
                warn!("reading events failed: {e}; replaying");
                self.notes.push(Notification::Lost);
            }
            self.feed(out);
        }
    }

    fn feed(&mut self, out: &mut Vec<Output>) {
        for n in self.notes.drain(..) {
            if n == Notification::Lost {
                match self.resync.cursor() {
                    Some((_, seq)) => {
                        warn!("events were lost (socket buffer full); replaying from seq {seq}")
                    }
                    None => warn!("events were lost (socket buffer full)"),
                }
            }
            if n == Notification::FamilyAppeared {
                self.client = None; // the new registration has a new id
            }
            if let Notification::Malformed(what) = &n {
                warn!("undecodable event ({what}); replaying to learn what it said");
            }
            self.resync.on_notification(n, out);
        }
    }

    fn make_requests(&mut self, out: &mut Vec<Output>) {
        while let Some(req) = self.resync.request() {
            match req {
                Request::Snapshot => {
                    let r = self.client().and_then(Client::snapshot);
                    self.drop_client_on_error(&r);
                    self.resync.on_snapshot(r, out);
                }
                Request::Info => {
                    let r = self.client().and_then(Client::info);
                    self.drop_client_on_error(&r);
                    self.resync.on_info(r, out);
                }
                Request::Replay { since, instance } => {
                    let r = self
                        .client()
                        .and_then(|c| c.events_since(since, Some(instance)));
                    self.drop_client_on_error(&r);
                    self.resync.on_events(r, out);
                }
                Request::CheckFamily => {
                    if let Err(e) = self.listener.recheck(&mut self.notes) {
                        warn!("asking nlctrl about the afcluster family: {e}");
                    }
                    self.feed(out);
                    self.resync
                        .on_family_checked(self.listener.family_present());
                }
            }
        }
        if let (Some(d), None) = (self.resync.backoff(), self.retry_at) {
            self.retry_at = Some(Instant::now() + d);
        }
    }

    fn client(&mut self) -> Result<&mut Client> {
        if self.client.is_none() {
            self.client = Some(Client::connect()?);
        }
        self.client.as_mut().ok_or(Error::NotLoaded)
    }

    /// A family re-registered has a new id: connect again after errors
    /// that may mean that (cheap: a request or two to nlctrl).
    fn drop_client_on_error<T>(&mut self, r: &Result<T>) {
        if matches!(r, Err(e) if !matches!(e, Error::HistoryGone(_) | Error::Stale(_))) {
            self.client = None;
        }
    }
}
