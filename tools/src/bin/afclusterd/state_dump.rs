//! SIGUSR1's state dump (keepalived writes /tmp/keepalived.data): the
//! status as `afcluster status` shows it, for someone at the console.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use afcluster::control::{render_status, Status};

/// Written beside the target and renamed over it, so a reader never sees
/// half a dump; O_EXCL and O_NOFOLLOW keep a planted link from redirecting
/// the write (the daemon runs as root).
pub fn write(path: &Path, status: &Status) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)?;
    let written = render_status(status, &mut f).and_then(|()| f.flush());
    if let Err(e) = written.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}
