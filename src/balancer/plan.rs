//! From what IPVS holds to what it should hold, touching nothing else:
//! services that are not ours stay, destinations that are already right
//! are not rewritten (no connection is dropped by a reload).

use crate::ipvs::{Change, Dest, Service, ServiceKey};

/// `ours`: services this daemon manages or managed (the previous
/// configuration's); those no longer desired are removed.
pub fn plan(
    actual: &[(Service, Vec<Dest>)],
    desired: &[(Service, Vec<Dest>)],
    ours: &[ServiceKey],
) -> Vec<Change> {
    let mut ops = Vec::new();
    for (s, want) in desired {
        let Some((have_s, have)) = actual.iter().find(|(a, _)| a.key == s.key) else {
            ops.push(Change::AddService(s.clone()));
            ops.extend(want.iter().map(|d| Change::AddDest(s.key, d.clone())));
            continue;
        };
        if have_s != s {
            ops.push(Change::EditService(s.clone()));
        }
        ops.extend(dest_ops(&s.key, have, want));
    }
    for key in ours {
        let still = desired.iter().any(|(s, _)| &s.key == key);
        let there = actual.iter().any(|(s, _)| &s.key == key);
        if !still && there {
            ops.push(Change::DelService(*key));
        }
    }
    ops
}

/// The changes that turn one service's destinations `have` into `want`.
pub fn dest_ops(key: &ServiceKey, have: &[Dest], want: &[Dest]) -> Vec<Change> {
    let mut ops = Vec::new();
    for d in want {
        match have.iter().find(|h| h.addr == d.addr && h.port == d.port) {
            None => ops.push(Change::AddDest(*key, d.clone())),
            Some(h) if h != d => ops.push(Change::EditDest(*key, d.clone())),
            Some(_) => {}
        }
    }
    for h in have {
        if !want.iter().any(|d| d.addr == h.addr && d.port == h.port) {
            ops.push(Change::DelDest(*key, h.addr, h.port));
        }
    }
    ops
}

/// What a table is once `c` is applied to it: the daemon's belief about
/// IPVS after each acknowledged change, so that the next plan needs no
/// read of the kernel's table.
pub fn apply_change(table: &mut Vec<(Service, Vec<Dest>)>, c: &Change) {
    let find = |t: &mut Vec<(Service, Vec<Dest>)>, key: &ServiceKey| {
        t.iter().position(|(s, _)| &s.key == key)
    };
    match c {
        Change::AddService(s) | Change::EditService(s) => match find(table, &s.key) {
            Some(i) => table[i].0 = s.clone(),
            None => table.push((s.clone(), Vec::new())),
        },
        Change::DelService(key) => {
            if let Some(i) = find(table, key) {
                table.remove(i);
            }
        }
        Change::AddDest(key, d) | Change::EditDest(key, d) => {
            if let Some(i) = find(table, key) {
                let dests = &mut table[i].1;
                match dests
                    .iter()
                    .position(|h| h.addr == d.addr && h.port == d.port)
                {
                    Some(j) => dests[j] = d.clone(),
                    None => dests.push(d.clone()),
                }
            }
        }
        Change::DelDest(key, addr, port) => {
            if let Some(i) = find(table, key) {
                table[i].1.retain(|h| !(h.addr == *addr && h.port == *port));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::Forward;

    fn svc(port: u16, sched: &str) -> Service {
        Service::new(ServiceKey::tcp("10.0.0.1".parse().unwrap(), port), sched)
    }

    fn dest(last: u8, weight: i32) -> Dest {
        Dest::new(
            format!("10.0.1.{last}").parse().unwrap(),
            80,
            Forward::Masq,
            weight,
        )
    }

    #[test]
    fn applying_a_plan_to_the_table_gives_the_desired_table() {
        let mut actual = vec![
            (svc(80, "rr"), vec![dest(1, 1), dest(2, 1), dest(3, 1)]),
            (svc(81, "rr"), vec![dest(9, 1)]),
        ];
        let desired = vec![
            (svc(80, "wlc"), vec![dest(1, 1), dest(2, 0), dest(4, 1)]),
            (svc(82, "rr"), vec![dest(5, 1)]),
        ];
        let ours = [svc(80, "rr").key, svc(81, "rr").key];
        for op in plan(&actual, &desired, &ours) {
            apply_change(&mut actual, &op);
        }
        let norm = |t: &[(Service, Vec<Dest>)]| {
            let mut t = t.to_vec();
            t.sort_by_key(|(s, _)| s.key.to_string());
            for (_, d) in &mut t {
                d.sort_by_key(|d| d.addr);
            }
            t
        };
        assert_eq!(norm(&actual), norm(&desired));
        assert!(plan(&actual, &desired, &ours).is_empty());
    }

    #[test]
    fn nothing_to_do_when_equal() {
        let t = vec![(svc(80, "rr"), vec![dest(1, 1), dest(2, 0)])];
        assert!(plan(&t, &t, &[svc(80, "rr").key]).is_empty());
    }

    #[test]
    fn adds_edits_and_deletes_only_what_differs() {
        let actual = vec![
            (svc(80, "rr"), vec![dest(1, 1), dest(2, 1), dest(3, 1)]),
            (svc(81, "rr"), vec![]),  // ours before, gone from the config
            (svc(99, "wlc"), vec![]), // someone else's
        ];
        let desired = vec![
            (svc(80, "wlc"), vec![dest(1, 1), dest(2, 0), dest(4, 1)]),
            (svc(82, "rr"), vec![dest(5, 1)]),
        ];
        let ours = [svc(80, "rr").key, svc(81, "rr").key];
        let k80 = svc(80, "rr").key;
        assert_eq!(
            plan(&actual, &desired, &ours),
            [
                Change::EditService(svc(80, "wlc")),
                Change::EditDest(k80, dest(2, 0)),
                Change::AddDest(k80, dest(4, 1)),
                Change::DelDest(k80, "10.0.1.3".parse().unwrap(), 80),
                Change::AddService(svc(82, "rr")),
                Change::AddDest(svc(82, "rr").key, dest(5, 1)),
                Change::DelService(svc(81, "rr").key),
            ]
        );
    }
}
