//! `cpu/mandelbrot`: render one row of a Mandelbrot image per op.
//!
//! Op `i` renders row `i mod height` of a `width x height` view of
//! [-2.2, 0.8] x [-1.2, 1.2]. Rows through the set iterate up to `max_iter`
//! per pixel, rows near the edge escape at once, so per-op cost is uneven on
//! purpose: a static split of rows over workers is unbalanced, a dynamic one
//! is not, and the per-worker op counts in the record show it.

use std::sync::Arc;

use crate::params::{ParamKind, ParamSpec};
use crate::{CloneRun, OpError, RunShape, SharedRun, WorkerOp, WorkloadError, WorkloadInfo};

/// Registry entry.
pub static INFO: WorkloadInfo = WorkloadInfo {
    id: "cpu/mandelbrot",
    summary:
        "render a row of a Mandelbrot image; uneven cost per op (static vs dynamic scheduling)",
    params: &[
        ParamSpec {
            name: "width",
            kind: ParamKind::Int {
                min: 1,
                max: 1_000_000,
            },
            default: "256",
            help: "pixels per row (the work per op)",
        },
        ParamSpec {
            name: "height",
            kind: ParamKind::Int {
                min: 1,
                max: 1_000_000,
            },
            default: "128",
            help: "rows in the image; op i renders row i mod height",
        },
        ParamSpec {
            name: "max_iter",
            kind: ParamKind::Int {
                min: 1,
                max: 1_000_000,
            },
            default: "256",
            help: "iteration cap per pixel (cost of rows inside the set)",
        },
    ],
    in_profiles: true,
    build: |params| Ok(Box::new(Mandelbrot { params })),
};

workload_type! {
    Mandelbrot = INFO;
    fn prepare(&self, _shape: RunShape) -> Result<Arc<dyn SharedRun>, WorkloadError> {
        Ok(Arc::new(CloneRun(RowOp {
            width: self.params.int("width") as u32,
            height: self.params.int("height") as u32,
            max_iter: self.params.int("max_iter") as u32,
        })))
    }
}

#[derive(Clone)]
struct RowOp {
    width: u32,
    height: u32,
    max_iter: u32,
}

impl WorkerOp for RowOp {
    fn run_op(&mut self, op_index: u64) -> Result<u64, OpError> {
        let row = (op_index % u64::from(self.height)) as u32;
        Ok(render_row(row, self.width, self.height, self.max_iter))
    }
}

/// Renders one row and returns the total iteration count over its pixels.
pub fn render_row(row: u32, width: u32, height: u32, max_iter: u32) -> u64 {
    let ci = -1.2 + 2.4 * (f64::from(row) + 0.5) / f64::from(height);
    let mut total = 0u64;
    for col in 0..width {
        let cr = -2.2 + 3.0 * (f64::from(col) + 0.5) / f64::from(width);
        let (mut zr, mut zi) = (0.0f64, 0.0f64);
        let mut iter = 0;
        while iter < max_iter && zr * zr + zi * zi <= 4.0 {
            let next_zr = zr * zr - zi * zi + cr;
            zi = 2.0 * zr * zi + ci;
            zr = next_zr;
            iter += 1;
        }
        total += u64::from(iter);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn middle_rows_cost_more_than_edge_rows() {
        let edge = render_row(0, 256, 128, 256);
        let middle = render_row(64, 256, 128, 256);
        assert!(middle > 10 * edge, "middle {middle} edge {edge}");
    }
}
