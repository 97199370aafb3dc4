//! `corebench compare`: two or more results folders side by side, as a
//! page or as an export.

use std::path::{Path, PathBuf};

use super::CompareArgs;
use crate::error::{is_unusable_path, UsageError};
use crate::output::{print, println};

/// Refuses an `--out` that is one of the inputs or lies inside one: a
/// comparison must never overwrite what it reads.
fn refuse_output_inside_inputs(out: &Path, inputs: &[PathBuf]) -> Result<(), UsageError> {
    let resolved = reports::staging::resolve(out);
    for input in inputs {
        let input = reports::staging::resolve(input);
        if resolved.starts_with(&input) {
            return Err(UsageError::new(format!(
                "--out '{}' is inside the input folder '{}'; write the comparison somewhere else",
                out.display(),
                input.display()
            )));
        }
    }
    Ok(())
}

/// Parses `--noise`: a percentage (`2%`) or a fraction (`0.02`).
pub fn parse_noise(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.trim().strip_suffix('%') {
        Some(percent) => (percent, 0.01),
        None => (text.trim(), 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 && value * scale < 1.0 => Ok(value * scale),
        _ => Err(format!(
            "bad noise threshold '{text}'; expected a percentage like 2% or a fraction like 0.02, below 100%"
        )),
    }
}

/// Runs `corebench compare`; returns the exit code.
pub fn compare(args: CompareArgs) -> anyhow::Result<i32> {
    use reports::compare::{compare as compare_configs, configurations, CompareOptions};
    use reports::folder::ResultsFolder;

    let mut dirs = args.dirs.clone();
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    let baseline_dir = match &args.baseline {
        Some(base) => {
            if !dirs.iter().any(|d| same(d, base)) {
                dirs.insert(0, base.clone());
            }
            base.clone()
        }
        None => dirs[0].clone(),
    };
    if dirs.len() < 2 {
        return Err(UsageError::new(format!(
            "compare needs two or more results folders (a folder may be given twice); got {}",
            dirs.len()
        ))
        .into());
    }
    if let Some(out) = &args.out {
        refuse_output_inside_inputs(out, &dirs)?;
    }
    let mut folders = Vec::with_capacity(dirs.len());
    for dir in &dirs {
        let (folder, warnings) = ResultsFolder::open_with(dir, args.lenient)
            .map_err(|e| UsageError::new(e.to_string()))?;
        for warning in warnings {
            eprintln!("warning: {warning}");
        }
        folders.push(folder);
    }
    // The first configuration that came from the baseline folder.
    let baseline_source = dirs
        .iter()
        .position(|d| same(d, &baseline_dir))
        .map_or_else(|| folders[0].dir.clone(), |i| folders[i].dir.clone());
    let configs = configurations(folders);
    let baseline = configs
        .iter()
        .position(|c| same(&c.source, &baseline_source))
        .unwrap_or(0);
    let comparison = compare_configs(
        configs,
        CompareOptions {
            baseline,
            noise: args.noise,
            series: crate::models::report_series(),
        },
    );

    match args.format.exporter() {
        None => {
            let out = args.out.clone().unwrap_or_else(|| {
                PathBuf::from("corebench-results").join(format!(
                    "compare-{}",
                    chrono::Local::now().format("%Y%m%d-%H%M%S")
                ))
            });
            let index = match reports::compare::page::write_compare_report(&comparison, &out) {
                Ok(index) => index,
                Err(reports::error::ReportError::Refused(refused)) => {
                    return Err(UsageError::new(refused.to_string()).into())
                }
                Err(reports::error::ReportError::Io { path, source })
                    if is_unusable_path(&source) =>
                {
                    return Err(UsageError::new(format!(
                        "cannot write the comparison to '{}': {source}",
                        path.display()
                    ))
                    .into())
                }
                Err(e) => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("writing the comparison to {}", out.display())))
                }
            };
            println(&reports::compare::page::summary_line(&comparison))?;
            for line in &comparison.plans {
                println(line)?;
            }
            println(&format!("report: {}", index.display()))?;
        }
        Some(exporter) => {
            let text = exporter.export(&comparison)?;
            match &args.out {
                Some(path) => std::fs::write(path, text).map_err(|e| {
                    let message = format!("cannot write --out '{}': {e}", path.display());
                    if is_unusable_path(&e) {
                        anyhow::Error::new(UsageError::new(message))
                    } else {
                        anyhow::Error::msg(message)
                    }
                })?,
                None => print(&text)?,
            }
        }
    }

    let regressions = comparison.regressions();
    if args.fail_on_regression && !regressions.is_empty() {
        for (workload, model, workers, config) in &regressions {
            eprintln!(
                "slower: {workload} under {model} at {} in {config}",
                reports::format::workers_phrase(*workers)
            );
        }
        eprintln!("{} cells slower than the baseline", regressions.len());
        return Ok(1);
    }
    Ok(0)
}
