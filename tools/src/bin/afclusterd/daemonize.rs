//! Going to the background the classic way (fork, setsid, stdio to
//! /dev/null), with one refinement: the parent waits for the child to say
//! it started, so `afclusterd` exits non-zero when the daemon could not
//! start instead of leaving a dead daemon behind a successful exit.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};

/// The child's end: report readiness or the reason it failed.
pub struct Readiness(File);

impl Readiness {
    pub fn ready(mut self) {
        let _ = self.0.write_all(b"\0");
    }

    pub fn failed(mut self, why: &str) {
        let _ = self.0.write_all(why.as_bytes());
    }
}

/// Fork. Returns in the child only; the parent exits with the child's
/// verdict. Must run before any thread or socket is created.
pub fn daemonize(keep_stderr: bool) -> io::Result<Readiness> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the array on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned here.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: single-threaded at this point.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            drop(rd);
            // SAFETY: plain syscalls in the child.
            if unsafe { libc::setsid() } < 0 {
                return Err(io::Error::last_os_error());
            }
            std::env::set_current_dir("/")?;
            detach_stdio(keep_stderr)?;
            Ok(Readiness(File::from(wr)))
        }
        _ => {
            drop(wr);
            let mut verdict = Vec::new();
            let _ = File::from(rd).read_to_end(&mut verdict);
            match verdict.as_slice() {
                [0] => std::process::exit(0),
                [] => {
                    eprintln!("afclusterd: the daemon exited during start; see the system log");
                    std::process::exit(1)
                }
                why => {
                    eprintln!("afclusterd: {}", String::from_utf8_lossy(why));
                    std::process::exit(1)
                }
            }
        }
    }
}

fn detach_stdio(keep_stderr: bool) -> io::Result<()> {
    let null = File::options().read(true).write(true).open("/dev/null")?;
    let last = if keep_stderr { 2 } else { 3 };
    for fd in 0..last {
        // SAFETY: dup2 onto the standard descriptors.
        if unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), fd) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
