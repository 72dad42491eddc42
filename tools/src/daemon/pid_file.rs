//! The pid file, locked for the daemon's life: a second daemon is told who
//! runs instead of fighting over what the first holds.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub struct PidFile {
    path: PathBuf,
    // Holds the lock until dropped.
    _file: File,
}

impl PidFile {
    pub fn create(path: &Path, name: &str) -> io::Result<PidFile> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("pid file {}: {e}", path.display())))?;
        if rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
            let mut other = String::new();
            let _ = file.read_to_string(&mut other);
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!(
                    "{name} is already running (pid {}, pid file {})",
                    other.trim(),
                    path.display()
                ),
            ));
        }
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        file.flush()?;
        Ok(PidFile {
            path: path.to_path_buf(),
            _file: file,
        })
    }

    /// Remove the file at a clean stop (while still holding the lock).
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
