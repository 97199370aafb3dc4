//! The minimisers the fits use: Nelder–Mead over two variables and a
//! golden-section search over one.
// A dedicated optimisation crate (argmin) is far heavier than these
// one- and two-parameter searches need.

/// Minimises `f` over two variables from `start` with the Nelder–Mead
/// simplex method.
pub(super) fn nelder_mead(
    f: impl Fn([f64; 2]) -> f64,
    start: [f64; 2],
    step: f64,
    iterations: usize,
) -> [f64; 2] {
    let mut simplex = [
        start,
        [start[0] + step, start[1]],
        [start[0], start[1] + step],
    ];
    let mut values = simplex.map(&f);
    for _ in 0..iterations {
        let mut order = [0, 1, 2];
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        simplex = order.map(|i| simplex[i]);
        values = order.map(|i| values[i]);
        if (values[2] - values[0]).abs() <= 1e-15 * (1.0 + values[0].abs()) {
            break;
        }
        let centroid = [
            (simplex[0][0] + simplex[1][0]) / 2.0,
            (simplex[0][1] + simplex[1][1]) / 2.0,
        ];
        let along = |t: f64| {
            [
                centroid[0] + t * (simplex[2][0] - centroid[0]),
                centroid[1] + t * (simplex[2][1] - centroid[1]),
            ]
        };
        let reflected = along(-1.0);
        let fr = f(reflected);
        if fr < values[0] {
            let expanded = along(-2.0);
            let fe = f(expanded);
            (simplex[2], values[2]) = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < values[1] {
            (simplex[2], values[2]) = (reflected, fr);
        } else {
            let contracted = along(0.5);
            let fc = f(contracted);
            if fc < values[2] {
                (simplex[2], values[2]) = (contracted, fc);
            } else {
                for i in 1..3 {
                    simplex[i] = [
                        (simplex[0][0] + simplex[i][0]) / 2.0,
                        (simplex[0][1] + simplex[i][1]) / 2.0,
                    ];
                    values[i] = f(simplex[i]);
                }
            }
        }
    }
    let best = (0..3)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0);
    simplex[best]
}

/// Minimises `f` over `[low, high]` by golden-section search; `f` should
/// have one minimum there.
pub(super) fn golden_section(f: impl Fn(f64) -> f64, mut low: f64, mut high: f64) -> f64 {
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut a = high - ratio * (high - low);
    let mut b = low + ratio * (high - low);
    let (mut fa, mut fb) = (f(a), f(b));
    for _ in 0..200 {
        if (high - low).abs() <= 1e-14 * (1.0 + low.abs()) {
            break;
        }
        if fa < fb {
            high = b;
            (b, fb) = (a, fa);
            a = high - ratio * (high - low);
            fa = f(a);
        } else {
            low = a;
            (a, fa) = (b, fb);
            b = low + ratio * (high - low);
            fb = f(b);
        }
    }
    (low + high) / 2.0
}
