//! IPVS errors, in the user's terms.

use std::io;

use super::types::SyncState;
use crate::netlink::NlError;

/// What went wrong with an IPVS request.
#[derive(Debug, thiserror::Error)]
pub enum IpvsError {
    /// The kernel has no generic-netlink family "IPVS": ip_vs is not loaded
    /// and could not be autoloaded (see the module documentation).
    #[error(
        "IPVS is not available (no generic-netlink family \"IPVS\"): \
         load ip_vs (modprobe ip_vs)"
    )]
    NotAvailable,

    /// EPERM: every IPVS command, reads included, needs CAP_NET_ADMIN.
    #[error("permission denied: IPVS needs CAP_NET_ADMIN (run as root)")]
    PermissionDenied,

    /// EEXIST: adding a service or destination that is already there.
    #[error("the IPVS service or destination already exists")]
    Exists,

    /// ESRCH (no such service) or ENOENT (no such destination).
    #[error("no such IPVS service or destination")]
    NotFound,

    /// ENOENT on adding or editing a service: the kernel found no module
    /// `ip_vs_<scheduler>` (or `ip_vs_pe_<engine>`).
    #[error("{}", unknown_scheduler(scheduler, engine.as_deref()))]
    UnknownScheduler {
        scheduler: String,
        engine: Option<String>,
    },

    /// EEXIST on starting a sync daemon: one of this state already runs in
    /// this network namespace (stop it first; its settings cannot be
    /// changed in place).
    #[error("an IPVS {0} sync daemon is already running")]
    DaemonRunning(SyncState),

    /// ESRCH on stopping a sync daemon: none of this state runs.
    #[error("no IPVS {0} sync daemon is running")]
    DaemonNotRunning(SyncState),

    /// ENODEV on starting a sync daemon: this network namespace has no
    /// interface of that name.
    #[error("no interface {0:?} for the IPVS sync daemon")]
    NoSuchInterface(String),

    /// Refused before anything was sent (a name too long, a netmask out of
    /// range, fwmark 0...).
    #[error("invalid IPVS request: {0}")]
    Invalid(String),

    /// Any other errno the kernel answered (EINVAL, ERANGE...).
    #[error("{}", kernel(*errno, message.as_deref()))]
    Kernel {
        errno: i32,
        /// The extack message, when the kernel gave one.
        message: Option<String>,
    },

    /// The kernel did not answer within the request timeout.
    #[error("the kernel did not answer the IPVS request in time")]
    Timeout,

    /// A reply the library could not understand.
    #[error("malformed IPVS message from the kernel: {0}")]
    Decode(String),

    #[error("netlink: {0}")]
    Io(#[from] io::Error),
}

fn unknown_scheduler(scheduler: &str, engine: Option<&str>) -> String {
    match engine {
        None => {
            format!("the kernel has no IPVS scheduler {scheduler:?} (module ip_vs_{scheduler})")
        }
        Some(pe) => format!(
            "the kernel has no IPVS scheduler {scheduler:?} or persistence engine {pe:?} \
             (modules ip_vs_{scheduler}, ip_vs_pe_{pe})"
        ),
    }
}

fn kernel(errno: i32, message: Option<&str>) -> String {
    let os = io::Error::from_raw_os_error(errno);
    match message {
        Some(m) => format!("{m} ({os})"),
        None => format!("IPVS: {os}"),
    }
}

impl IpvsError {
    /// The errno behind the error, when the kernel answered one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            IpvsError::PermissionDenied => Some(libc::EPERM),
            IpvsError::Exists | IpvsError::DaemonRunning(_) => Some(libc::EEXIST),
            IpvsError::DaemonNotRunning(_) => Some(libc::ESRCH),
            IpvsError::NoSuchInterface(_) => Some(libc::ENODEV),
            IpvsError::UnknownScheduler { .. } => Some(libc::ENOENT),
            IpvsError::Kernel { errno, .. } => Some(*errno),
            IpvsError::Io(e) => e.raw_os_error(),
            _ => None,
        }
    }

    /// Classify an answer of the netlink transport.
    pub(crate) fn from_netlink(e: NlError) -> IpvsError {
        match e {
            NlError::Kernel(k) => match k.errno {
                libc::EPERM => IpvsError::PermissionDenied,
                libc::ENOENT | libc::ESRCH => IpvsError::NotFound,
                libc::EEXIST => IpvsError::Exists,
                // IpvsError names no request attribute: the offset goes.
                errno => IpvsError::Kernel {
                    errno,
                    message: k.message,
                },
            },
            NlError::Timeout => IpvsError::Timeout,
            NlError::Decode(s) => IpvsError::Decode(s),
            NlError::Io(e) => IpvsError::Io(e),
        }
    }
}

impl From<netlink_packet_core::DecodeError> for IpvsError {
    fn from(e: netlink_packet_core::DecodeError) -> Self {
        IpvsError::Decode(e.to_string())
    }
}
