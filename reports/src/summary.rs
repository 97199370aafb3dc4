//! The answer first: the summary a report opens with. One line per
//! workload (the best model at each worker count, its speedup, and the
//! reading's first sentence for why), then the problems: failed, disturbed
//! and unsupported cells. The page, `run --json` and the terminal read it.

use serde::Serialize;

use crate::analysis::{Analysis, CellRow, Section};
use crate::format::{clip, format_rate, workers_phrase};
use crate::schema::Status;

/// The longest reason a problem line shows; the cells table has it whole.
const PROBLEM_REASON_CHARS: usize = 160;

/// The best model at one worker count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Best {
    /// Workers.
    pub workers: u32,
    /// The model with the highest median throughput there.
    pub model: String,
    /// Its median throughput, ops/s.
    pub throughput_ops_s: f64,
    /// Its speedup against its own 1-worker cell, when measured.
    pub speedup: Option<f64>,
    /// Other models whose throughput interval reaches the best one's: the
    /// data cannot tell them apart, and the line says so.
    pub ties: Vec<String>,
}

/// One workload's line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadSummary {
    /// The section's anchor on the page.
    pub anchor: String,
    /// Workload id, scaling and placement.
    pub title: String,
    /// The best model per worker count, ascending.
    pub best: Vec<Best>,
    /// Why, in one sentence: the reading of the best model at the largest
    /// worker count.
    pub reason: String,
    /// Disturbed trials its figures leave out (their cells had enough
    /// clean ones).
    pub trials_left_out: usize,
    /// Models compared at each worker count (a tie among all of them is
    /// "all models within noise").
    pub models_compared: usize,
    /// Whether some model beats the best one worker: false when no cell
    /// at more workers is faster beyond its interval, and the line then
    /// says "this does not get faster with workers here".
    pub gets_faster: bool,
    /// Models left out of the comparison because they ran different work:
    /// their worker processes each had their own copy of the state the
    /// workload shares.
    pub left_out_models: Vec<String>,
}

impl WorkloadSummary {
    /// The line as the page and the terminal print it. Consecutive worker
    /// counts won by the same model share one clause, so a sweep to 64
    /// stays one line.
    pub fn text(&self) -> String {
        let mut runs: Vec<&[Best]> = Vec::new();
        let mut start = 0;
        for i in 1..=self.best.len() {
            if i == self.best.len()
                || self.best[i].model != self.best[start].model
                || !self.best[i].ties.is_empty()
                || !self.best[start].ties.is_empty()
            {
                runs.push(&self.best[start..i]);
                start = i;
            }
        }
        let speedup = |b: &Best| match b.speedup {
            Some(s) if b.workers > 1 => format!("{s:.2}x"),
            _ => String::new(),
        };
        // No winner is named among ties.
        let who = |b: &Best| match b.ties.len() {
            0 => b.model.clone(),
            n if n + 1 >= self.models_compared => "all models within noise".to_string(),
            _ => {
                let mut tied: Vec<&str> = std::iter::once(b.model.as_str())
                    .chain(b.ties.iter().map(String::as_str))
                    .collect();
                let last = tied.pop().unwrap_or_default();
                format!("{} and {last} within noise of each other", tied.join(", "))
            }
        };
        let best: Vec<String> = runs
            .iter()
            .map(|run| {
                let (first, last) = (&run[0], &run[run.len() - 1]);
                if !first.ties.is_empty() {
                    format!(
                        "{}: {} ({} ops/s)",
                        workers_phrase(first.workers),
                        who(first),
                        format_rate(first.throughput_ops_s)
                    )
                } else if run.len() == 1 {
                    let s = speedup(first);
                    format!(
                        "{}: {}{} {} ops/s",
                        workers_phrase(first.workers),
                        who(first),
                        if s.is_empty() {
                            String::new()
                        } else {
                            format!(" {s},")
                        },
                        format_rate(first.throughput_ops_s)
                    )
                } else {
                    let from = speedup(first);
                    format!(
                        "{} to {} workers: {}, {}{} at {} ({} ops/s)",
                        first.workers,
                        last.workers,
                        first.model,
                        if from.is_empty() {
                            String::new()
                        } else {
                            format!("{from} at {} to ", first.workers)
                        },
                        speedup(last),
                        last.workers,
                        format_rate(last.throughput_ops_s)
                    )
                }
            })
            .collect();
        if best.is_empty() {
            return "no cell ran successfully".to_string();
        }
        let left_out = match self.trials_left_out {
            0 => String::new(),
            1 => " (1 disturbed trial left out)".to_string(),
            n => format!(" ({n} disturbed trials left out)"),
        };
        let mut text = format!("{}{left_out}.", best.join("; "));
        if !self.left_out_models.is_empty() {
            text.push_str(&format!(
                " Not compared: {}, whose worker processes each had their own copy of the state this workload shares, so it ran different work.",
                self.left_out_models.join(", ")
            ));
        }
        if !self.gets_faster && self.best.iter().any(|b| b.workers > 1) {
            text.push_str(" This does not get faster with workers here.");
        }
        text
    }
}

/// A cell that did not give a clean measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// The section's anchor on the page.
    pub anchor: String,
    /// `failed`, `timeout`, `deadlocked`, `unsupported` or `disturbed`.
    pub kind: String,
    /// Workload, model and workers, and why.
    pub text: String,
}

/// The summary of a whole report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// One per workload section, in page order.
    pub workloads: Vec<WorkloadSummary>,
    /// Failed, timed-out and deadlocked cells, then disturbed ones, then
    /// unsupported ones.
    pub problems: Vec<Problem>,
}

/// Reads the answer out of an analysis. The calibration workload is the
/// host's single-core speed, not a result: it is left out.
pub fn summarise(analysis: &Analysis) -> Summary {
    let sections = analysis.sections.iter().filter(|s| !s.is_calibration());
    let mut summary = Summary::default();
    let mut disturbed = Vec::new();
    let mut unsupported = Vec::new();
    for section in sections {
        summary.workloads.push(workload_line(section));
        for row in &section.rows {
            let cell = format!(
                "{} {} at {}",
                section.workload_id,
                row.model,
                workers_phrase(row.workers)
            );
            let why = row.error.as_deref().map_or(String::new(), |e| {
                format!(": {}", clip(e, PROBLEM_REASON_CHARS))
            });
            let problem = |kind: &str, text: String| Problem {
                anchor: section.id.clone(),
                kind: kind.to_string(),
                text,
            };
            match row.status {
                Status::Ok => {}
                Status::Unsupported => {
                    unsupported.push(problem("unsupported", format!("{cell}{why}")));
                    continue;
                }
                status => summary
                    .problems
                    .push(problem(status.as_str(), format!("{cell}{why}"))),
            }
            // A cell whose disturbed trials were left out (enough were
            // clean) has a clean measurement; the workload's line counts
            // what was left out.
            if !row.clean_figures() {
                disturbed.push(problem(
                    "disturbed",
                    format!(
                        "{cell}: {} of {} trials disturbed by the rest of the machine, too many to leave out{}",
                        row.disturbed,
                        row.trials,
                        row.disturbed_why.first().map_or(String::new(), |w| format!(
                            " ({})",
                            clip(w, PROBLEM_REASON_CHARS)
                        ))
                    ),
                ));
            }
        }
    }
    summary.problems.extend(disturbed);
    summary.problems.extend(unsupported);
    summary
}

fn workload_line(section: &Section) -> WorkloadSummary {
    let mut counts: Vec<u32> = section.rows.iter().map(|r| r.workers).collect();
    counts.sort_unstable();
    counts.dedup();
    // A model whose worker processes each copied the state the workload
    // shares ran different work: it is not a candidate.
    let left_out_models: Vec<String> = section
        .models
        .iter()
        .filter(|m| m.own_copies)
        .map(|m| m.model.clone())
        .collect();
    let compared = |r: &&CellRow| !left_out_models.contains(&r.model);
    let best: Vec<Best> = counts
        .iter()
        .filter_map(|&n| {
            let candidates: Vec<(&CellRow, crate::stats::Estimate)> = section
                .rows
                .iter()
                .filter(compared)
                .filter(|r| r.workers == n && r.status == Status::Ok)
                .filter_map(|r| Some((r, r.throughput_ops_s?)))
                .collect();
            let (row, throughput) = candidates
                .iter()
                .max_by(|a, b| a.1.point.total_cmp(&b.1.point))?;
            let mut best = best_of(row, throughput.point);
            best.ties = candidates
                .iter()
                .filter(|(other, t)| other.model != row.model && t.high >= throughput.low)
                .map(|(other, _)| other.model.clone())
                .collect();
            Some(best)
        })
        .collect();
    let best_reading = best
        .last()
        .and_then(|b| section.models.iter().find(|m| m.model == b.model))
        .map(|m| m.reading.as_str());
    // Beating one worker means a faster cell beyond both intervals.
    let best_alone = section
        .rows
        .iter()
        .filter(compared)
        .filter(|r| r.workers == 1 && r.status == Status::Ok)
        .filter_map(|r| r.throughput_ops_s)
        .max_by(|a, b| a.point.total_cmp(&b.point));
    let gets_faster = best_alone.is_none_or(|alone| {
        section
            .rows
            .iter()
            .filter(compared)
            .filter(|r| r.workers > 1 && r.status == Status::Ok)
            .filter_map(|r| r.throughput_ops_s)
            .any(|t| t.low > alone.high)
    });
    // Why, in one sentence; where nothing gets faster, with where the
    // lost speedup went (the reading's second clause, from the breakdown).
    let reason = best_reading.map_or(String::new(), |reading| {
        let first = first_sentence(reading);
        let rest = reading[first.len().saturating_sub(1).min(reading.len())..]
            .trim_start_matches(';')
            .trim_start();
        match rest.strip_prefix("of the lost ") {
            Some(_) if !gets_faster => {
                format!("{}; {}", first.trim_end_matches('.'), first_sentence(rest))
            }
            _ => first,
        }
    });
    let models_compared = section
        .models
        .iter()
        .filter(|m| !left_out_models.contains(&m.model))
        .count();
    WorkloadSummary {
        anchor: section.id.clone(),
        title: format!(
            "{} ({} scaling, pin {})",
            section.workload_id, section.scaling, section.placement
        ),
        best,
        reason,
        trials_left_out: section.rows.iter().map(CellRow::left_out).sum(),
        models_compared,
        gets_faster,
        left_out_models,
    }
}

fn best_of(row: &CellRow, throughput_ops_s: f64) -> Best {
    Best {
        workers: row.workers,
        model: row.model.clone(),
        throughput_ops_s,
        speedup: row.speedup.map(|s| s.point),
        ties: Vec::new(),
    }
}

/// Up to the first full stop that ends a sentence (not one inside a
/// number such as `1.54x`) or the first semicolon: readings list their
/// findings as clauses, and the first is the headline.
fn first_sentence(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut depth = 0i32;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ => {}
        }
        if b == b';' && depth == 0 {
            return format!("{}.", &text[..i]);
        }
        if b == b'.' && bytes.get(i + 1).is_none_or(|next| *next == b' ') {
            return text[..=i].to_string();
        }
    }
    format!("{text}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_sentence_ends_at_a_real_full_stop() {
        assert_eq!(
            first_sentence("threads reach 1.54x of 2.00x. The rest is lost."),
            "threads reach 1.54x of 2.00x."
        );
        assert_eq!(first_sentence("no stop"), "no stop.");
        assert_eq!(first_sentence("a 1.5x; b"), "a 1.5x.");
        assert_eq!(
            first_sentence("f 0.09 from 2 counts: too few (2; 3 needed) to project"),
            "f 0.09 from 2 counts: too few (2; 3 needed) to project."
        );
    }

    #[test]
    fn a_line_names_the_best_model_per_worker_count() {
        let line = WorkloadSummary {
            anchor: "a".into(),
            title: "cpu/primes".into(),
            best: vec![
                Best {
                    workers: 1,
                    model: "seq".into(),
                    throughput_ops_s: 3100.0,
                    speedup: Some(1.0),
                    ties: Vec::new(),
                },
                Best {
                    workers: 2,
                    model: "threads".into(),
                    throughput_ops_s: 6000.0,
                    speedup: Some(1.93),
                    ties: Vec::new(),
                },
            ],
            reason: String::new(),
            trials_left_out: 0,
            models_compared: 3,
            gets_faster: true,
            left_out_models: Vec::new(),
        };
        assert_eq!(
            line.text(),
            "1 worker: seq 3.1k ops/s; 2 workers: threads 1.93x, 6.0k ops/s."
        );
        let mut left_out = line.clone();
        left_out.trials_left_out = 1;
        assert_eq!(
            left_out.text(),
            "1 worker: seq 3.1k ops/s; 2 workers: threads 1.93x, 6.0k ops/s (1 disturbed trial left out)."
        );
        let mut long = line.clone();
        long.best.push(Best {
            workers: 4,
            model: "threads".into(),
            throughput_ops_s: 11000.0,
            speedup: Some(3.6),
            ties: Vec::new(),
        });
        assert_eq!(
            long.text(),
            "1 worker: seq 3.1k ops/s; 2 to 4 workers: threads, 1.93x at 2 to 3.60x at 4 (11.0k ops/s)."
        );
        // No winner is named among ties.
        long.best[0].ties = vec!["threads".into(), "pool".into()];
        assert!(
            long.text()
                .starts_with("1 worker: all models within noise (3.1k ops/s);"),
            "{}",
            long.text()
        );
        long.best[0].ties = vec!["threads".into()];
        assert!(
            long.text()
                .starts_with("1 worker: seq and threads within noise of each other (3.1k ops/s);"),
            "{}",
            long.text()
        );
        let mut flat = line.clone();
        flat.gets_faster = false;
        flat.left_out_models = vec!["process".into()];
        assert!(
            flat.text().ends_with(
                "Not compared: process, whose worker processes each had their own copy of the state this workload shares, so it ran different work. This does not get faster with workers here."
            ),
            "{}",
            flat.text()
        );
    }
}

/// One cell as `run --json` prints it: medians with their intervals.
#[derive(Debug, Clone, Serialize)]
pub struct CellJson {
    /// Workload id.
    pub workload: String,
    /// The canonical spec.
    pub spec: String,
    /// `strong` or `weak`.
    pub scaling: String,
    /// `closed` or `open:RATE`.
    pub load: String,
    /// Placement.
    pub placement: String,
    /// Model.
    pub model: String,
    /// Workers.
    pub workers: u32,
    /// Worst status over the trials.
    pub status: String,
    /// Trials recorded.
    pub trials: usize,
    /// Trials that ended ok.
    pub trials_ok: usize,
    /// Trials the rest of the machine disturbed.
    pub disturbed: usize,
    /// Median throughput with its interval.
    pub throughput_ops_s: Option<crate::stats::Estimate>,
    /// Median wall time, ns, with its interval.
    pub wall_ns: Option<crate::stats::Estimate>,
    /// Speedup against the model at one worker, with its interval.
    pub speedup: Option<crate::stats::Estimate>,
    /// Median p50 op latency, ns.
    pub p50_ns: Option<f64>,
    /// Median p99 op latency, ns.
    pub p99_ns: Option<f64>,
    /// Median p99.9 op latency, ns.
    pub p99_9_ns: Option<f64>,
    /// Why it failed or could not run.
    pub error: Option<String>,
}

/// What `corebench run --json` prints: where the results are, the
/// summary, and every cell.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// The results folder.
    pub results_dir: String,
    /// The report's `index.html`.
    pub report: String,
    /// Best model per workload and the problems.
    pub summary: Summary,
    /// Every cell, in report order.
    pub cells: Vec<CellJson>,
    /// Every section's fitted laws, as `report/fits.json` holds them.
    pub fits: Vec<crate::analysis::fitted::SectionFits>,
}

impl RunSummary {
    /// The summary of the results folder `results_dir`, from the
    /// `analysis` its report at `report` shows.
    pub fn of(
        results_dir: &std::path::Path,
        analysis: &crate::analysis::Analysis,
        report: &std::path::Path,
    ) -> RunSummary {
        let cells = analysis
            .sections
            .iter()
            .flat_map(|section| {
                section.rows.iter().map(move |row| CellJson {
                    workload: section.workload_id.clone(),
                    spec: section.workload_spec.clone(),
                    scaling: section.scaling.clone(),
                    load: section.load.clone(),
                    placement: section.placement.clone(),
                    model: row.model.clone(),
                    workers: row.workers,
                    status: row.status.as_str().to_string(),
                    trials: row.trials,
                    trials_ok: row.trials_ok,
                    disturbed: row.disturbed,
                    throughput_ops_s: row.throughput_ops_s,
                    wall_ns: row.wall_ns,
                    speedup: row.speedup,
                    p50_ns: row.p50_ns,
                    p99_ns: row.p99_ns,
                    p99_9_ns: row.p99_9_ns,
                    error: row.error.clone(),
                })
            })
            .collect();
        RunSummary {
            results_dir: results_dir.display().to_string(),
            report: report.display().to_string(),
            summary: summarise(analysis),
            cells,
            fits: crate::analysis::fitted::FitsFile::of(analysis).sections,
        }
    }
}
