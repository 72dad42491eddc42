//! The addresses this machine has, for `ha_suspend`: a virtual server's
//! checkers run only while its address is local (the VRRP master holds
//! it). Kept from the kernel's address notifications, as keepalived's
//! checker process keeps them (check_api.c update_checker_activity): an
//! address on several interfaces counts once per interface, and is gone
//! when the last goes.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;

use afcluster::rtnl::monitor::{LinkMonitor, LinkNews};
use afcluster::rtnl::Rtnl;
use log::warn;
use mio::{Interest, Token};

use crate::core::Cx;

pub struct LocalAddrs {
    monitor: LinkMonitor,
    token: Token,
    count: HashMap<IpAddr, u32>,
}

impl LocalAddrs {
    /// Subscribe, then read every address (so that none added between
    /// the two is missed); `key`: the monitor's readiness key.
    pub fn open(cx: &mut Cx, key: u64) -> io::Result<LocalAddrs> {
        let mut monitor = LinkMonitor::open()?;
        let token = cx.register(monitor.source(), key, Interest::READABLE)?;
        let mut l = LocalAddrs {
            monitor,
            token,
            count: HashMap::new(),
        };
        l.load();
        Ok(l)
    }

    pub fn has(&self, a: IpAddr) -> bool {
        self.count.get(&a).is_some_and(|n| *n > 0)
    }

    /// The kernel's news.
    pub fn ready(&mut self) {
        let mut news = Vec::new();
        if let Err(e) = self.monitor.read(&mut news) {
            warn!("ha_suspend: reading address changes: {e}");
        }
        for n in news {
            match n {
                LinkNews::AddrAdded(a) => {
                    *self.count.entry(a.addr).or_default() += 1;
                }
                LinkNews::AddrRemoved(a) => {
                    if let Some(c) = self.count.get_mut(&a.addr) {
                        *c = c.saturating_sub(1);
                    }
                }
                LinkNews::Overrun => self.load(),
                LinkNews::Link(_) | LinkNews::Removed(_) => {}
            }
        }
    }

    pub fn close(mut self, cx: &mut Cx) {
        cx.deregister(self.monitor.source(), self.token);
    }

    /// Every address of every link, afresh.
    fn load(&mut self) {
        let found = Rtnl::connect()
            .map_err(|e| e.to_string())
            .and_then(|mut rt| {
                let mut count: HashMap<IpAddr, u32> = HashMap::new();
                for l in rt.links().map_err(|e| e.to_string())? {
                    for a in rt.addrs(l.index).map_err(|e| e.to_string())? {
                        *count.entry(a.addr).or_default() += 1;
                    }
                }
                Ok(count)
            });
        match found {
            Ok(c) => self.count = c,
            Err(e) => warn!("ha_suspend: cannot read this machine's addresses: {e}"),
        }
    }
}
