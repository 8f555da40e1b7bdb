//! Opening a file to make it durable: Windows' FlushFileBuffers needs a handle with write
//! access (a read-only one fails with "access denied"), Unix's fsync and fdatasync do not.

use std::fs::File;
use std::io;
use std::path::Path;

pub(crate) fn open_for_sync(path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    return File::open(path);
    #[cfg(not(unix))]
    return std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path);
}
