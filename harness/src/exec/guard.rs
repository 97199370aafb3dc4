//! The guardian of a `corebench exec` run: a small process of its own
//! (`corebench exec-guard`, hidden) that outlives corebench if corebench
//! is killed outright (`SIGKILL`, the OOM killer), and then ends what
//! corebench could not: every process carrying the run's tag in its
//! environment (the program, its children, and any that left its process
//! group or session), and the run's scratch folder.
//!
//! corebench holds the write end of the guardian's stdin. A run that ends
//! in any orderly way writes `done` first; when the pipe closes without
//! it, corebench is gone, and the guardian acts. It costs nothing while
//! it waits: it is blocked in one `read`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The environment variable every program `exec` runs gets, with the
/// run's tag as its value: how the guardian finds what the program left.
pub const TAG_ENV: &str = "COREBENCH_EXEC_TAG";

/// What the guardian reads when the run ended in order.
const DONE: &str = "done\n";

/// A running guardian; [`Guardian::finish`] lets it go without acting.
pub struct Guardian {
    child: Child,
    /// The run's tag, the value of [`TAG_ENV`].
    pub tag: String,
}

impl Guardian {
    /// Starts the guardian of a run whose scratch folder is `scratch`;
    /// `None` (with a warning) where it cannot be started, and then only
    /// an orderly end cleans up.
    pub fn start(scratch: &Path) -> Option<Guardian> {
        let tag = format!("{}-{}", std::process::id(), fastrand::u64(..));
        let exe = std::env::current_exe().ok()?;
        let mut command = Command::new(exe);
        command
            .args(["exec-guard", "--tag", &tag, "--scratch"])
            .arg(scratch)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group: a Ctrl-C at the terminal, which signals
        // corebench's group, must not take the guardian with it.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        match command.spawn() {
            Ok(child) => Some(Guardian { child, tag }),
            Err(e) => {
                eprintln!(
                    "corebench: warning: no guardian for this run ({e}): if corebench is killed outright, the program's processes may outlive it"
                );
                None
            }
        }
    }

    /// Its pid, which `exec`'s own orphan hunt spares.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The `NAME=VALUE` the program's processes carry.
    pub fn env(&self) -> (String, String) {
        (TAG_ENV.to_string(), self.tag.clone())
    }

    /// Ends the guardian without it acting: the run cleaned up itself.
    pub fn finish(mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(DONE.as_bytes());
        }
        let _ = self.child.wait();
    }
}

/// The guardian's side (`corebench exec-guard`): waits for its stdin to
/// close; without `done` first, kills every process tagged `tag` and
/// removes `scratch`. Returns the exit code.
pub fn guard(tag: &str, scratch: &Path) -> i32 {
    let mut said = String::new();
    let _ = std::io::stdin().take(64).read_to_string(&mut said);
    if said == DONE {
        return 0;
    }
    crate::os::process::kill_tagged(&format!("{TAG_ENV}={tag}"));
    let _ = std::fs::remove_dir_all(scratch);
    0
}
