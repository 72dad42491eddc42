//! Going to the background the classic way (fork, setsid, stdio to
//! /dev/null), with one refinement: the parent waits for the child to say
//! it started, so the command exits non-zero when the daemon could not
//! start instead of leaving a dead daemon behind a successful exit.

use std::fs::File;
use std::io::{self, Read, Write};

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
pub fn daemonize(name: &str, keep_stderr: bool) -> io::Result<Readiness> {
    let (rd, wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    // SAFETY: single-threaded at this point. libc's fork, as rustix's
    // (runtime::kernel_fork) skips libc's atfork handlers.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            drop(rd);
            rustix::process::setsid()?;
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
                    eprintln!("{name}: the daemon exited during start; see the system log");
                    std::process::exit(1)
                }
                why => {
                    eprintln!("{name}: {}", String::from_utf8_lossy(why));
                    std::process::exit(1)
                }
            }
        }
    }
}

fn detach_stdio(keep_stderr: bool) -> io::Result<()> {
    let null = File::options().read(true).write(true).open("/dev/null")?;
    rustix::stdio::dup2_stdin(&null)?;
    rustix::stdio::dup2_stdout(&null)?;
    if !keep_stderr {
        rustix::stdio::dup2_stderr(&null)?;
    }
    Ok(())
}
