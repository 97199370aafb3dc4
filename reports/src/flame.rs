//! Flamegraphs: where a cell's CPU samples were. A run with `--flamegraph`
//! keeps each cell's samples as folded stacks (`frame;frame;frame COUNT`
//! per line) in `DIR/profiles/CELL.folded`, with what the sampler asked and
//! got in `CELL.json`; the report renders one SVG per cell from them into
//! its `flame/` folder through inferno, so `corebench report` re-renders
//! them like every other chart.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cells::CellKey;
use crate::error::ReportError;
use crate::slug::slug;

/// The folder of a results folder that holds the samples.
pub const PROFILES_DIR: &str = "profiles";

/// The folder of a report that holds the rendered flamegraphs.
pub const FLAME_DIR: &str = "flame";

/// What a cell's wall-clock profile adds to its name:
/// `profiles/CELL.wall.folded`, every sample with its thread's state as
/// the root frame (see [`crate::waits`]).
pub const WALL_SUFFIX: &str = ".wall";

/// What a cell's off-CPU flamegraph adds to its name: `flame/CELL.offcpu.svg`,
/// drawn from the blocked samples of its wall-clock profile.
pub const OFFCPU_SUFFIX: &str = ".offcpu";

/// What the sampler asked for and got over a cell's measured trials.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SamplingInfo {
    /// The rate asked for, samples per CPU-second.
    pub asked_hz: u32,
    /// Samples taken.
    pub samples: u64,
    /// The process's CPU time while sampling, ns.
    pub cpu_ns: u64,
    /// The rate the kernel gave: samples over CPU-seconds. `ITIMER_PROF`
    /// is capped by the kernel's tick rate (HZ), so 999 Hz asked may be
    /// about 250 Hz got.
    pub real_hz: Option<f64>,
    /// Samples left out of child processes' stacks to keep their
    /// messages under the size cap (the rarest stacks go first).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_samples: u64,
    /// What the samples leave out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The file name (without extension) of a cell's samples and flamegraph:
/// its workload, scaling, load and placement (cut, as slugs are, at 80
/// characters), then its model and workers whole, then a hash of all of
/// it. Before the model and workers were kept whole, a long spec cut them
/// off, and every cell of that workload wrote one file: each overwrote
/// the last.
pub fn profile_name(key: &CellKey) -> String {
    let cell = format!(
        "{}-{}-{}-{}-{}-{}w",
        key.workload, key.scaling, key.load, key.placement, key.model, key.workers
    );
    format!(
        "{}-{}-{}w-{:08x}",
        slug(&format!(
            "{}-{}-{}-{}",
            key.workload, key.scaling, key.load, key.placement
        )),
        slug(&key.model),
        key.workers,
        fnv1a(cell.as_bytes()) as u32
    )
}

/// FNV-1a, 64-bit: a name's hash that stays the same across builds and
/// Rust versions, which std's hasher does not promise. Nine lines, so no
/// crate for it.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// One flamegraph SVG from folded stacks.
pub fn render_flamegraph(folded: &str, title: &str) -> std::io::Result<String> {
    render_with(inferno::flamegraph::Options::default(), folded, title)
}

/// An off-CPU flamegraph: blocked samples, in the blue of Brendan Gregg's
/// off-CPU graphs, so it is not mistaken for a CPU one.
fn render_off_cpu(folded: &str, title: &str) -> std::io::Result<String> {
    let mut options = inferno::flamegraph::Options::default();
    options.colors =
        inferno::flamegraph::Palette::Basic(inferno::flamegraph::color::BasicPalette::Io);
    options.bgcolors = Some(inferno::flamegraph::color::BackgroundColor::Blue);
    // The cell's name is long: under the title, where it can run wide.
    let (heading, cell) = title.split_once(" (").unwrap_or((title, ""));
    options.subtitle = Some(cell.trim_end_matches(')').to_string());
    render_with(options, folded, heading)
}

fn render_with(
    mut options: inferno::flamegraph::Options<'_>,
    folded: &str,
    title: &str,
) -> std::io::Result<String> {
    options.title = title.to_string();
    options.count_name = "samples".to_string();
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut options, folded.lines(), &mut svg)?;
    Ok(String::from_utf8_lossy(&svg).into_owned())
}

/// The most one folded profile may hold. A long run at a high rate folds
/// to a few megabytes; anything past this is not a profile corebench wrote.
pub const FOLDED_MAX_BYTES: u64 = 64 << 20;

/// The flamegraphs a report rendered, and the profiles it left out.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The names rendered (see [`profile_name`]).
    pub names: BTreeSet<String>,
    /// One line per profile that could not be read, naming its file (and
    /// line, where one is to blame) and why: that flamegraph is left out,
    /// the rest of the report is not.
    pub warnings: Vec<String>,
}

/// Renders every `DIR/profiles/*.folded` into `out/flame/NAME.svg`. A
/// folder without samples renders none. A profile that is not a regular
/// file, is larger than [`FOLDED_MAX_BYTES`] or is not UTF-8 is left out
/// with a warning; only failing to write is an error.
pub fn render_all(results_dir: &Path, out: &Path) -> Result<Rendered, ReportError> {
    let mut rendered = Rendered::default();
    let Ok(entries) = fs::read_dir(results_dir.join(PROFILES_DIR)) else {
        return Ok(rendered);
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "folded"))
        .collect();
    paths.sort();
    for path in paths {
        let Some(name) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        // A wall-clock profile draws its blocked samples: the off-CPU
        // flamegraph (its running samples are in the CPU one).
        let (file_name, name, title) = match name.strip_suffix(WALL_SUFFIX) {
            Some(cell) => (
                name.clone(),
                format!("{cell}{OFFCPU_SUFFIX}"),
                format!("off-CPU: where the workers were blocked ({cell})"),
            ),
            None => (name.clone(), name.clone(), name),
        };
        let wall = file_name != name;
        // Reading and drawing fail the same way: that flamegraph only.
        let svg = match read_folded(&path).and_then(|folded| {
            let folded = if wall { blocked_only(&folded) } else { folded };
            if folded.trim().is_empty() {
                return Ok(None);
            }
            let drawn = if wall {
                render_off_cpu(&folded, &title)
            } else {
                render_flamegraph(&folded, &title)
            };
            drawn.map(Some).map_err(|e| format!(": {e}"))
        }) {
            Ok(Some(svg)) => svg,
            Ok(None) => continue,
            Err(problem) => {
                rendered.warnings.push(format!(
                    "{PROFILES_DIR}/{file_name}.folded{problem}; its flamegraph is left out"
                ));
                continue;
            }
        };
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ReportError::Io { path, source }
        };
        let dir = out.join(FLAME_DIR);
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let svg_path = dir.join(format!("{name}.svg"));
        fs::write(&svg_path, svg).map_err(io(&svg_path))?;
        rendered.names.insert(name);
    }
    Ok(rendered)
}

/// Writes `stacks` as a folded profile at `path`, one `STACK COUNT` line
/// each, sorted: the one writer of the format [`render_all`] reads.
pub fn write_folded<'a>(
    path: &Path,
    stacks: impl Iterator<Item = (&'a String, &'a u64)>,
) -> std::io::Result<()> {
    let mut lines: Vec<String> = stacks
        .map(|(stack, count)| format!("{stack} {count}"))
        .collect();
    lines.sort();
    fs::write(path, lines.join("\n") + "\n")
}

/// The blocked samples of a wall-clock profile, without their root frame.
fn blocked_only(folded: &str) -> String {
    let prefix = format!("{};", crate::waits::ROOT_BLOCKED);
    folded
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// A folded profile as text, or what is wrong with it, starting with
/// `:LINE` when one line is to blame (`: ` otherwise).
fn read_folded(path: &Path) -> Result<String, String> {
    let bytes = crate::input::read_capped(path, FOLDED_MAX_BYTES).map_err(|e| format!(": {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        let bad = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..bad].iter().filter(|b| **b == b'\n').count();
        let line_start = bytes[..bad]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |at| at + 1);
        format!(":{line}: not valid UTF-8 at byte {}", bad - line_start + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_stacks_become_an_svg_naming_their_frames() {
        let svg = render_flamegraph(
            "main;run;primes_kernel 30\nmain;run;sleep 10\n",
            "cpu/primes",
        )
        .unwrap();
        assert!(svg.starts_with("<?xml") || svg.contains("<svg"));
        assert!(svg.contains("primes_kernel"));
        assert!(svg.contains("75.00%"), "30 of 40 samples");
    }

    #[test]
    fn cells_of_one_long_spec_get_names_of_their_own() {
        let key = |model: &str, workers: u32| CellKey {
            workload: "synthetic/amdahl:round_steps=10000000,serial_fraction=0.5".into(),
            scaling: "strong".into(),
            load: "closed".into(),
            placement: "none".into(),
            model: model.into(),
            workers,
        };
        let names: BTreeSet<String> = [key("threads", 1), key("threads", 2), key("rayon", 2)]
            .iter()
            .map(profile_name)
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names
            .iter()
            .all(|n| n.contains("-2w-") || n.contains("-1w-")));
        assert!(names.iter().any(|n| n.contains("-threads-1w-")));
    }

    #[test]
    fn an_unreadable_profile_is_left_out_with_its_file_and_line() {
        let results = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let profiles = results.path().join(PROFILES_DIR);
        fs::create_dir(&profiles).unwrap();
        fs::write(profiles.join("good.folded"), "main;work 3\n").unwrap();
        fs::write(
            profiles.join("bad.folded"),
            b"main;work 3\nmain;\xff\xfe 2\n",
        )
        .unwrap();
        std::os::unix::fs::symlink("/dev/zero", profiles.join("zero.folded")).unwrap();
        let rendered = render_all(results.path(), out.path()).unwrap();
        assert_eq!(rendered.names.iter().collect::<Vec<_>>(), ["good"]);
        assert_eq!(rendered.warnings.len(), 2, "{:?}", rendered.warnings);
        assert!(
            rendered.warnings[0].starts_with("profiles/bad.folded:2: not valid UTF-8 at byte 6"),
            "{:?}",
            rendered.warnings
        );
        assert!(
            rendered.warnings[1].starts_with("profiles/zero.folded: it is a character device"),
            "{:?}",
            rendered.warnings
        );
    }
}
