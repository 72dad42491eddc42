//! `--node-addrs FILE`: a node's service addresses besides its ring
//! addresses, so that real servers map to nodes. One line a node:
//!
//! ```text
//! # node (corosync nodeid or name)   addresses
//! 21      10.10.0.121 fd10::121
//! web2    10.10.0.122
//! ```
//!
//! `#` starts a comment. A node named twice gets the addresses of both
//! lines.

use std::net::IpAddr;
use std::path::Path;

/// Which node a line is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKey {
    Id(u32),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeAddrs(pub Vec<(NodeKey, Vec<IpAddr>)>);

impl NodeAddrs {
    pub fn load(path: &Path) -> Result<NodeAddrs, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--node-addrs {}: {e}", path.display()))?;
        NodeAddrs::parse(&text).map_err(|e| format!("--node-addrs {}:{e}", path.display()))
    }

    /// Errors name the line: "3: 10.0.0.300 is not an IPv4 or IPv6 address".
    pub fn parse(text: &str) -> Result<NodeAddrs, String> {
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let Some(node) = words.next() else { continue };
            let key = match node.parse::<u32>() {
                Ok(0) => return Err(format!("{}: node id 0 is not a node", n + 1)),
                Ok(id) => NodeKey::Id(id),
                Err(_) => NodeKey::Name(node.to_string()),
            };
            let addrs = words
                .map(|w| {
                    w.parse::<IpAddr>()
                        .map_err(|_| format!("{}: {w} is not an IPv4 or IPv6 address", n + 1))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if addrs.is_empty() {
                return Err(format!("{}: node {node} has no address", n + 1));
            }
            out.push((key, addrs));
        }
        Ok(NodeAddrs(out))
    }

    /// The extra addresses of the node `id` named `name`.
    pub fn of(&self, id: u32, name: &str) -> Vec<IpAddr> {
        self.0
            .iter()
            .filter(|(k, _)| match k {
                NodeKey::Id(i) => *i == id,
                NodeKey::Name(n) => n == name,
            })
            .flat_map(|(_, a)| a.iter().copied())
            .collect()
    }

    /// Lines that name no node of the nodelist, for a warning.
    pub fn unknown<'a>(&'a self, known: &'a [(u32, String)]) -> impl Iterator<Item = &'a NodeKey> {
        self.0.iter().map(|(k, _)| k).filter(move |k| {
            !known.iter().any(|(id, name)| match k {
                NodeKey::Id(i) => i == id,
                NodeKey::Name(n) => n == name,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_by_id_or_name_with_comments() {
        let a = NodeAddrs::parse(
            "# service addresses\n21 10.0.0.1 fd00::1\n\nweb2 10.0.0.2 # b\n21 10.0.0.9\n",
        )
        .unwrap();
        assert_eq!(
            a.of(21, "web1"),
            ["10.0.0.1", "fd00::1", "10.0.0.9"]
                .map(|s| s.parse::<IpAddr>().unwrap())
                .to_vec()
        );
        assert_eq!(
            a.of(22, "web2"),
            vec!["10.0.0.2".parse::<IpAddr>().unwrap()]
        );
        assert!(a.of(23, "web3").is_empty());
        let known = [(21, "web1".to_string()), (22, "web2".to_string())];
        assert_eq!(a.unknown(&known).count(), 0);
        assert_eq!(a.unknown(&known[..1]).count(), 1);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            NodeAddrs::parse("1 10.0.0.1\n2 10.0.0.300\n").unwrap_err(),
            "2: 10.0.0.300 is not an IPv4 or IPv6 address"
        );
        assert_eq!(
            NodeAddrs::parse("web1\n").unwrap_err(),
            "1: node web1 has no address"
        );
        assert_eq!(
            NodeAddrs::parse("0 10.0.0.1\n").unwrap_err(),
            "1: node id 0 is not a node"
        );
    }
}
