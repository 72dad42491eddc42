//! The transport's errors: protocol-neutral, so that each layer on top
//! (afcluster, IPVS) can say what they mean in its own terms.

use std::io;

use super::extack::ErrorReply;

/// What can go wrong with a request on the transport.
#[derive(Debug, thiserror::Error)]
pub enum NlError {
    /// The kernel refused the request (NLMSG_ERROR, or NLMSG_DONE with an
    /// error).
    #[error("{0}")]
    Kernel(ErrorReply),

    /// The socket's read timeout passed before the answer was complete.
    #[error("the kernel did not answer the request in time")]
    Timeout,

    /// A datagram or message that does not parse.
    #[error("malformed message from the kernel: {0}")]
    Decode(String),

    #[error("netlink: {0}")]
    Io(#[from] io::Error),
}

pub type NlResult<T> = std::result::Result<T, NlError>;

impl From<netlink_packet_core::DecodeError> for NlError {
    fn from(e: netlink_packet_core::DecodeError) -> Self {
        NlError::Decode(e.to_string())
    }
}
