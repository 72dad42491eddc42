//! A scripted IPVS for tests: holds a table, records every change, and
//! refuses the changes it is told to.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use afcluster::balancer::apply_change;
use afcluster::ipvs::{Change, IpvsError};

use super::{Backend, Table};

#[derive(Default)]
pub struct Fake {
    pub table: Table,
    pub log: Vec<Change>,
    pub reads: usize,
    /// Popped per change: true refuses it (ENOMEM).
    pub refuse: VecDeque<bool>,
}

#[derive(Clone, Default)]
pub struct Shared(pub Arc<Mutex<Fake>>);

impl Shared {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Fake> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Backend for Shared {
    fn table(&mut self) -> Result<Table, IpvsError> {
        let mut f = self.lock();
        f.reads += 1;
        Ok(f.table.clone())
    }

    fn apply(&mut self, c: &Change) -> Result<(), IpvsError> {
        let mut f = self.lock();
        f.log.push(c.clone());
        if f.refuse.pop_front().unwrap_or(false) {
            return Err(IpvsError::Kernel {
                errno: libc::ENOMEM,
                message: None,
            });
        }
        apply_change(&mut f.table, c);
        Ok(())
    }
}
