//! `afcluster`'s command-line syntax.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use afcluster::NodeState;
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "afcluster",
    version,
    about = "Read and change the kernel's cluster node table, and follow its events",
    after_help = concat!("\
Examples:
  afcluster add 1 --name alpha --addr 10.0.0.1 --addr fd00::1 --state up
  afcluster set 1 --state goingdown
  afcluster set 1 --addr 10.0.0.9  # the node's addresses are now just 10.0.0.9
  afcluster node 10.0.0.1          # which node owns this address
  afcluster nodes --json           # with the seq and instance they hold at
  afcluster events --since 0 --follow
  afcluster events --since SEQ --instance INSTANCE   # resume where a script left
  afcluster status                 # what afclusterd reflects
  afcluster genhash --server 10.0.0.2 --port 80 --url /health   # an HTTP_GET digest

", "Exit status:
  0  success
  1  the kernel refused the request, or another error
  2  bad command line
  3  the afcluster module is not loaded
  4  permission denied (changes need CAP_NET_ADMIN)
  5  no such node or address
  6  events lost beyond the kernel's history, or the table is another
     instance than --instance (events): dump it again (nodes --json)
  7  afclusterd is not running (status, wait)")
)]
pub struct Cli {
    /// Print JSON instead of tables: the kernel's reply for changes, one
    /// object per line for `events`
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Show the table's summary: instance, max nodes, local node, counts,
    /// sequence, history
    Info,
    /// List every node
    Nodes,
    /// Show one node, by id or by any of its addresses
    Node {
        /// A node id or an IPv4/IPv6 address
        #[arg(value_parser = parse_node_ref)]
        node: NodeRef,
    },
    /// Add a node and print it with the seq of its event (needs CAP_NET_ADMIN)
    Add {
        id: u32,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Change a node and print it with the seq of the last event the change
    /// caused; any `set` also renews the node's lease (needs CAP_NET_ADMIN)
    Set {
        id: u32,
        #[command(flatten)]
        change: ChangeArgs,
        /// Remove every address of the node
        #[arg(long, conflicts_with = "addrs")]
        no_addrs: bool,
    },
    /// Remove a node and print its last description with the seq of its
    /// event (needs CAP_NET_ADMIN)
    Del { id: u32 },
    /// Set this machine's node id, 0 for none, and print the table's
    /// summary after it (needs CAP_NET_ADMIN)
    Local { id: u32 },
    /// Print events: the kernel's history, or those after --since, then
    /// with --follow every new one as it happens (like `ip monitor`)
    Events {
        /// Replay the events after this sequence number
        #[arg(long, value_name = "SEQ")]
        since: Option<u64>,
        /// The table instance SEQ belongs to (as `info`, `nodes --json` or a
        /// change's reply printed it; decimal or 0x hex): if the table is
        /// another one now (module reloaded, namespace recreated), fail with
        /// exit status 6 instead of replaying unrelated events
        #[arg(long, value_name = "INSTANCE", value_parser = parse_instance)]
        instance: Option<u64>,
        /// Keep printing new events; lost ones are replayed from the history
        #[arg(long, short)]
        follow: bool,
        /// Receive buffer of the --follow socket in bytes; a small one loses
        /// events under bursts, which are then replayed
        #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
        rcvbuf: usize,
    },
    /// Show afclusterd's reflection of the table, its freshness and its
    /// counters, read from the daemon's control socket
    Status {
        /// The daemon's control socket
        #[arg(long, value_name = "PATH", default_value = afcluster::control::DEFAULT_SOCKET)]
        socket: PathBuf,
    },
    /// Wait until afclusterd reflects the change with this sequence number
    /// (or a later one), e.g. after `afcluster set`; at most 30 s
    Wait {
        seq: u64,
        /// The daemon's control socket
        #[arg(long, value_name = "PATH", default_value = afcluster::control::DEFAULT_SOCKET)]
        socket: PathBuf,
    },
    /// Print the MD5 digest of a URL's body, for HTTP_GET's and SSL_GET's
    /// `digest`, as keepalived's genhash does (the request is the
    /// checker's; the status code is not checked)
    Genhash(GenhashArgs),
}

#[derive(Args, Debug)]
pub struct GenhashArgs {
    /// Over TLS, as SSL_GET (no certificate is verified)
    #[arg(long, short = 'S', alias = "use-ssl")]
    pub ssl: bool,
    /// With --ssl, send the virtualhost as SNI
    #[arg(long, short = 'I', alias = "use-sni", requires = "ssl")]
    pub sni: bool,
    /// The server's address
    #[arg(long, short = 's', value_name = "IP")]
    pub server: IpAddr,
    /// The server's port
    #[arg(long, short = 'p', value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,
    /// The path asked for
    #[arg(long, short = 'u', value_name = "PATH")]
    pub url: String,
    /// The Host header (default: the address and port)
    #[arg(long, short = 'V', alias = "use-virtualhost", value_name = "HOST")]
    pub virtualhost: Option<String>,
    /// HTTP version: 1.0, 1.0C (1.0 with Connection: close) or 1.1
    #[arg(long, short = 'P', default_value = "1.0", value_parser = parse_protocol)]
    pub protocol: afcluster::config::HttpProtocol,
    /// Give up after this many seconds without progress (default: never,
    /// as keepalived's genhash)
    #[arg(long, short = 't', value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Print the response head and the timing too
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

fn parse_protocol(s: &str) -> Result<afcluster::config::HttpProtocol, String> {
    use afcluster::config::HttpProtocol;
    match s {
        "1.0" => Ok(HttpProtocol::V1_0),
        "1.0C" | "1.0c" => Ok(HttpProtocol::V1_0C),
        "1.1" => Ok(HttpProtocol::V1_1),
        _ => Err(format!("'{s}' is not 1.0, 1.0C or 1.1")),
    }
}

#[derive(Args, Debug, Default)]
pub struct ChangeArgs {
    /// The node's name (at most 63 bytes)
    #[arg(long)]
    pub name: Option<String>,
    /// An address of the node; repeat for several (at most 16). With `set`,
    /// the addresses given replace the node's whole list; without --addr
    /// `set` keeps it
    #[arg(long = "addr", value_name = "ADDRESS")]
    pub addrs: Vec<IpAddr>,
    /// The node's state: neverup (only on add), comingup, up, shutdown,
    /// goingdown, kcleanup, ucleanup, down
    #[arg(long)]
    pub state: Option<NodeState>,
    /// A lease: the node goes down unless `set` renews it within this time
    /// (e.g. 500ms, 5s, 2m; 0 removes the lease)
    #[arg(long, value_parser = parse_lease)]
    pub lease: Option<Duration>,
}

#[derive(Debug, Clone)]
pub enum NodeRef {
    Id(u32),
    Addr(IpAddr),
}

fn parse_node_ref(s: &str) -> Result<NodeRef, String> {
    if let Ok(id) = s.parse() {
        return Ok(NodeRef::Id(id));
    }
    s.parse()
        .map(NodeRef::Addr)
        .map_err(|_| format!("'{s}' is neither a node id nor an IPv4/IPv6 address"))
}

fn parse_lease(s: &str) -> Result<Duration, String> {
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(s).map_err(|e| format!("'{s}': {e} (e.g. 500ms, 5s, 2m)"))
}

fn parse_instance(s: &str) -> Result<u64, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    match parsed {
        Ok(0) => Err("instance 0 is no table's: instances are never 0".into()),
        Ok(i) => Ok(i),
        Err(e) => Err(format!(
            "'{s}': {e} (a table instance, as `afcluster info` prints it)"
        )),
    }
}
