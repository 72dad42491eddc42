//! Each piece takes the program's name, which it puts in what it tells
//! people (errors, syslog's tag).

pub mod daemonize;
pub mod flags;
pub mod logging;
pub mod pid_file;
pub mod service;
