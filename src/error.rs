//! Errors, in the user's terms.

use std::io;

use crate::message::{request_attr_of, AddrAttr, ClusterAttr, EventAttr, NodeAttr, RequestAttr};
use crate::netlink::NlError;

/// Linux errno values the library gives a meaning to.
mod errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
}

/// An error answered by the kernel to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// The positive errno.
    pub errno: i32,
    /// The extack message, when the kernel gave one.
    pub message: Option<String>,
    /// The request's attribute the kernel pointed at, decoded.
    pub attr: Option<RequestAttr>,
}

impl std::fmt::Display for KernelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.message {
            Some(m) => write!(f, "{m}")?,
            None => write!(f, "{}", io::Error::from_raw_os_error(self.errno))?,
        }
        if let Some(a) = &self.attr {
            write!(f, " ({})", describe_attr(a))?;
        }
        Ok(())
    }
}

/// "address 10.0.0.5", "node id 70000"...
pub fn describe_attr(a: &RequestAttr) -> String {
    match a {
        RequestAttr::Node(NodeAttr::Id(v)) => format!("node id {v}"),
        RequestAttr::Node(NodeAttr::State(v)) => match crate::NodeState::from_raw(*v) {
            Some(s) => format!("node state {s}"),
            None => format!("node state {v}"),
        },
        RequestAttr::Node(NodeAttr::Name(v)) => format!("node name {v:?}"),
        RequestAttr::Node(NodeAttr::Addr(v)) => format!("address {v}"),
        RequestAttr::Addr(AddrAttr::Ipv4(v)) => format!("address {v}"),
        RequestAttr::Addr(AddrAttr::Ipv6(v)) => format!("address {v}"),
        RequestAttr::Node(NodeAttr::LeaseMs(v)) => format!("lease {v} ms"),
        RequestAttr::Node(NodeAttr::ReplaceAddrs) => "the replace-addresses flag".into(),
        RequestAttr::Cluster(ClusterAttr::LocalNode(v)) => format!("local node {v}"),
        RequestAttr::Event(EventAttr::SinceSeq(v)) => format!("since seq {v}"),
        RequestAttr::Event(EventAttr::Instance(v)) => format!("instance {v}"),
        other => format!("{other:?}"),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the afcluster kernel module is not loaded (no generic-netlink family \"afcluster\"); \
         load it with `modprobe afcluster` or `insmod afcluster.ko`"
    )]
    NotLoaded,

    #[error("permission denied: changing the node table needs CAP_NET_ADMIN (run as root)")]
    PermissionDenied(KernelError),

    #[error("{0}")]
    NotFound(KernelError),

    /// EVENT_GET (ERANGE): the history no longer reaches back to the seq
    /// asked for, or that seq is newer than the table's.
    #[error("{0}; dump the table again instead")]
    HistoryGone(KernelError),

    /// EVENT_GET (ESTALE): the instance given is not the table's: the table
    /// was replaced (module reloaded, network namespace recreated), and
    /// seqs of the old one mean nothing in the new one. Dump it again.
    #[error(
        "{0}; the node table was replaced since (module reloaded or network namespace \
         recreated): dump it again"
    )]
    Stale(KernelError),

    #[error("{0}")]
    Kernel(KernelError),

    /// A listener's receive queue overflowed: the kernel dropped events.
    #[error("events were lost (the listener's receive buffer overflowed)")]
    EventsLost,

    #[error("malformed message from the kernel: {0}")]
    Decode(String),

    #[error("the node table changed during each of {0} dumps; try again")]
    Busy(u32),

    /// The read timeout of the request socket passed (see
    /// `client::REQUEST_TIMEOUT`); the kernel answers at once, so this
    /// means something is badly wrong.
    #[error("the kernel did not answer the request in time")]
    Timeout,

    #[error("netlink: {0}")]
    Io(#[from] io::Error),
}

impl Error {
    /// Classify a kernel answer.
    pub fn from_kernel(e: KernelError) -> Error {
        match e.errno {
            errno::EPERM => Error::PermissionDenied(e),
            errno::ENOENT => Error::NotFound(e),
            _ => Error::Kernel(e),
        }
    }

    /// The transport's error for the afcluster request whose bytes are
    /// `request`, with the kernel's extack offset decoded as the request's
    /// attribute.
    pub fn of_request(e: NlError, request: &[u8]) -> Error {
        match e {
            NlError::Kernel(r) => Error::from_kernel(KernelError {
                errno: r.errno,
                attr: r.offset.and_then(|o| request_attr_of(request, o)),
                message: r.message,
            }),
            NlError::Timeout => Error::Timeout,
            NlError::Decode(s) => Error::Decode(s),
            NlError::Io(e) => Error::Io(e),
        }
    }

    /// An EVENT_GET's error in its terms: ERANGE is `HistoryGone`, ESTALE
    /// `Stale`; anything else as it was.
    pub fn of_event_get(self) -> Error {
        match self {
            Error::Kernel(k) if k.errno == libc::ERANGE => Error::HistoryGone(k),
            Error::Kernel(k) if k.errno == libc::ESTALE => Error::Stale(k),
            e => e,
        }
    }

    /// The errno the kernel answered, if it was a kernel answer.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::PermissionDenied(k)
            | Error::NotFound(k)
            | Error::HistoryGone(k)
            | Error::Stale(k)
            | Error::Kernel(k) => Some(k.errno),
            Error::Io(e) => e.raw_os_error(),
            _ => None,
        }
    }
}

/// A transport error of a request that is not the afcluster family's
/// (nlctrl's): no attribute to name.
impl From<NlError> for Error {
    fn from(e: NlError) -> Self {
        Error::of_request(e, &[])
    }
}

impl From<netlink_packet_core::DecodeError> for Error {
    fn from(e: netlink_packet_core::DecodeError) -> Self {
        Error::Decode(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Error>;
