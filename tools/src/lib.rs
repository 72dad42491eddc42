//! What the project's daemons (afclusterd, afcluster-corosync) share about
//! being a daemon: going to the background, the pid file, logging, and
//! systemd's notify protocol.

pub mod daemon;
