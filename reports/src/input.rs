//! Opening the files a user points corebench at (records, host files,
//! folded profiles) so that no file can hang or swamp a reader: only
//! regular files are opened, whole-file reads have a cap, and lines are
//! read one at a time with a cap of their own.
//!
//! A FIFO blocks `open` until some writer appears, and a link to
//! `/dev/zero` never ends, so the kind of file is checked before it is
//! opened and again on the open handle.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

/// What kind of file a path names, in words, when it is not a regular
/// file.
fn not_regular(file_type: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_file() {
        None
    } else if file_type.is_dir() {
        Some("a folder")
    } else if file_type.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if file_type.is_char_device() {
        Some("a character device")
    } else if file_type.is_block_device() {
        Some("a block device")
    } else if file_type.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

fn refused(kind: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {kind}, not a regular file"),
    )
}

/// Opens `path` for reading if it is (or links to) a regular file.
pub fn open_regular(path: &Path) -> io::Result<File> {
    if let Some(kind) = not_regular(std::fs::metadata(path)?.file_type()) {
        return Err(refused(kind));
    }
    let file = File::open(path)?;
    // The path may have been swapped between the check and the open.
    if let Some(kind) = not_regular(file.metadata()?.file_type()) {
        return Err(refused(kind));
    }
    Ok(file)
}

/// Reads all of a regular file of at most `limit_bytes`.
pub fn read_capped(path: &Path, limit_bytes: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit_bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is larger than {}", size_words(limit_bytes)),
        ));
    }
    Ok(bytes)
}

/// A size in the largest whole binary unit.
pub fn size_words(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// One line as read by [`read_line_capped`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRead {
    /// Bytes the line had in the file, newline excluded; more than were
    /// kept when it was too long.
    pub len_bytes: u64,
    /// Whether it ended in a newline (the last line of a file cut short
    /// does not).
    pub ended: bool,
}

impl LineRead {
    /// Whether the line was longer than the cap, so only its start is in
    /// the buffer.
    pub fn cut(&self, cap_bytes: usize) -> bool {
        self.len_bytes > cap_bytes as u64
    }
}

/// Reads the next line into `line` (cleared first, newline dropped),
/// keeping at most `cap_bytes` of it and skipping the rest, so one huge
/// line costs no more memory than the cap. `None` at the end of the input.
pub fn read_line_capped(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    cap_bytes: usize,
) -> io::Result<Option<LineRead>> {
    line.clear();
    let mut len_bytes = 0u64;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(any.then_some(LineRead {
                len_bytes,
                ended: false,
            }));
        }
        any = true;
        let (chunk, ended) = match available.iter().position(|b| *b == b'\n') {
            Some(at) => (&available[..at], true),
            None => (available, false),
        };
        let room = cap_bytes.saturating_sub(line.len()).min(chunk.len());
        line.extend_from_slice(&chunk[..room]);
        len_bytes += chunk.len() as u64;
        let used = chunk.len() + usize::from(ended);
        reader.consume(used);
        if ended {
            return Ok(Some(LineRead { len_bytes, ended }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_at_the_cap_and_the_rest_skipped() {
        let text = b"short\n0123456789abcdef\nlast".to_vec();
        let mut reader = io::BufReader::with_capacity(4, text.as_slice());
        let mut line = Vec::new();
        let first = read_line_capped(&mut reader, &mut line, 8)
            .unwrap()
            .unwrap();
        assert_eq!(
            (line.as_slice(), first.ended, first.cut(8)),
            (&b"short"[..], true, false)
        );
        let second = read_line_capped(&mut reader, &mut line, 8)
            .unwrap()
            .unwrap();
        assert_eq!(line, b"01234567");
        assert_eq!((second.len_bytes, second.cut(8)), (16, true));
        let third = read_line_capped(&mut reader, &mut line, 8)
            .unwrap()
            .unwrap();
        assert_eq!((line.as_slice(), third.ended), (&b"last"[..], false));
        assert_eq!(read_line_capped(&mut reader, &mut line, 8).unwrap(), None);
    }

    #[test]
    fn only_regular_files_are_opened() {
        let dir = tempfile::tempdir().unwrap();
        let error = open_regular(dir.path()).unwrap_err();
        assert!(error.to_string().contains("a folder"), "{error}");
        let error = read_capped(Path::new("/dev/zero"), 10).unwrap_err();
        assert!(error.to_string().contains("character device"), "{error}");
        let file = dir.path().join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_capped(&file, 5).unwrap(), b"12345");
        let error = read_capped(&file, 4).unwrap_err();
        assert!(error.to_string().contains("larger than 4 bytes"), "{error}");
    }
}
