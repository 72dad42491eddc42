//! VRRP (RFC 3768 v2, RFC 5798 v3) as keepalived does it; the parts without I/O.

pub mod packet;
