//! Standard output. A reader that goes away (`| head`, a pager that quit)
//! closes the pipe; that is a normal end, as in ripgrep, not a failure and
//! never a panic: [`print()`] turns it into [`StdoutClosed`], which `main`
//! ends on quietly with exit code 0.

use std::io::Write;

/// Standard output was closed by its reader.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct StdoutClosed;

/// Writes `text` to standard output and flushes it.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing to standard output")),
    }
}

/// [`print()`] with a newline.
pub fn println(text: &str) -> anyhow::Result<()> {
    print(&format!("{text}\n"))
}

/// A message for people: nothing when `quiet`, to stderr when stdout
/// holds `--json` alone, else to stdout.
pub fn say(text: &str, quiet: bool, json: bool) -> anyhow::Result<()> {
    match (quiet, json) {
        (true, _) => Ok(()),
        (false, true) => {
            eprint!("{text}");
            Ok(())
        }
        (false, false) => print(text),
    }
}
