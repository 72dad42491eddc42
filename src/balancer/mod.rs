//! Load balancing in keepalived's manner: the configuration's virtual
//! servers, the checkers' verdicts, and the IPVS table that follows.

pub mod carry;
pub mod file_check;
pub mod model;
pub mod plan;

pub use carry::Carried;
pub use model::{Balancer, RsId, Transition};
pub use plan::{apply_change, dest_ops, plan};
