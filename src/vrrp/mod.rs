//! VRRP (RFC 3768 v2, RFC 5798 v3) as keepalived does it; the parts
//! without I/O: the wire format (`packet`), one instance's state machine
//! (`instance`), what a new master announces (`announce`), what tracked
//! objects do to it (`track`, `script`), sync groups (`sync_group`).

pub mod announce;
pub mod check;
pub mod instance;
pub mod packet;
pub mod script;
pub mod sync_group;
pub mod track;
pub mod vmac;
