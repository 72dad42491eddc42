//! What the project's binaries share: their command lines (so that the man
//! pages are generated from the very definitions the programs parse), and
//! what the daemons (afclusterd, afcluster-corosync) share about being a
//! daemon: going to the background, the pid file, logging, and systemd's
//! notify protocol.

pub mod args;
pub mod daemon;
