//! The series of every chart and table: the order and colours of the
//! series the caller names ([`SeriesOrder`]), and the palettes and
//! markers for every other series.

use serde::Serialize;

/// A colour as red, green, blue.
pub type Rgb = (u8, u8, u8);

/// A series the caller knows by name (the harness's execution models),
/// with its own colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownSeries {
    /// The `model` field of its records.
    pub name: String,
    /// Its colour in every chart and swatch.
    pub colour: Rgb,
    /// What it costs per op that code without it would not pay ("" for
    /// none, or for a series that is not a model).
    pub own_cost: String,
}

/// The series a report is told about, in report order: the harness hands
/// over its models' names, order and colours when it renders. Any other
/// name (an outside program's variants, a configuration) sorts after them
/// and is coloured from [`OTHER_COLOURS`] by position.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SeriesOrder(pub Vec<KnownSeries>);

impl SeriesOrder {
    /// Where `name` stands in report order: its place among the known
    /// series, or after them all.
    pub fn rank(&self, name: &str) -> usize {
        self.position(name).unwrap_or(self.0.len())
    }

    /// The colour of the series `name`, the `position`-th of its section:
    /// a known series' own, otherwise one of [`OTHER_COLOURS`] by position.
    pub fn colour(&self, name: &str, position: usize) -> Rgb {
        self.position(name)
            .map_or(OTHER_COLOURS[position % OTHER_COLOURS.len()], |i| {
                self.0[i].colour
            })
    }

    /// What the series `name` costs per op that code without it would not
    /// pay, when it is a known model with such a cost.
    pub fn own_cost(&self, name: &str) -> Option<&str> {
        self.position(name)
            .map(|i| self.0[i].own_cost.as_str())
            .filter(|cost| !cost.is_empty())
    }

    /// The marker of the series `name`, the `position`-th of its chart: a
    /// known series' own (its place in the order), otherwise by position.
    pub fn marker(&self, name: &str, position: usize) -> Marker {
        MARKERS[self.position(name).unwrap_or(position) % MARKERS.len()]
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.0.iter().position(|s| s.name == name)
    }
}

/// The Okabe-Ito palette, which colour-blind readers can tell apart, with
/// black last: configurations and specs are drawn in it, in order.
pub const OKABE_ITO: [Rgb; 7] = [
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (213, 94, 0),
    (204, 121, 167),
    (86, 180, 233),
    (0, 0, 0),
];

/// Colours for series whose names are not known (the variants of
/// an outside program, the configurations of a comparison), handed out
/// by position so that no two share one: Paul Tol's muted palette, also
/// safe for colour-blind readers and apart from the models' colours.
pub const OTHER_COLOURS: [Rgb; 8] = [
    (51, 34, 136),
    (136, 204, 238),
    (68, 170, 153),
    (17, 119, 51),
    (153, 153, 51),
    (221, 204, 119),
    (204, 102, 119),
    (136, 34, 85),
];

/// The marker shapes series are drawn with, so that no series is told
/// apart by its colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A filled circle.
    Circle,
    /// A filled square.
    Square,
    /// A filled triangle.
    Triangle,
    /// A filled diamond.
    Diamond,
    /// An x.
    Cross,
    /// A ring.
    Ring,
    /// A hollow square.
    Frame,
    /// A +.
    Plus,
}

/// Every marker, in the order series get them.
pub const MARKERS: [Marker; 8] = [
    Marker::Square,
    Marker::Circle,
    Marker::Triangle,
    Marker::Diamond,
    Marker::Cross,
    Marker::Ring,
    Marker::Frame,
    Marker::Plus,
];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Two known series, `seq` and `threads`, for tests.
    pub(crate) fn known() -> SeriesOrder {
        SeriesOrder(
            [("seq", (0, 0, 0)), ("threads", (0, 114, 178))]
                .map(|(name, colour)| KnownSeries {
                    name: name.to_string(),
                    colour,
                    own_cost: String::new(),
                })
                .to_vec(),
        )
    }

    #[test]
    fn known_series_keep_their_colour_and_marker_wherever_they_stand() {
        let known = known();
        assert_eq!(known.colour("threads", 5), (0, 114, 178));
        assert_eq!(known.marker("threads", 5), MARKERS[1]);
        assert_eq!(known.rank("seq"), 0);
    }

    #[test]
    fn names_outside_the_order_get_colours_by_position() {
        let known = known();
        assert_ne!(
            known.colour("python-threads", 0),
            known.colour("python-asyncio", 1)
        );
        assert!(!OKABE_ITO.contains(&known.colour("python-threads", 0)));
        assert_eq!(known.rank("python-threads"), 2);
        assert_eq!(SeriesOrder::default().colour("x", 0), OTHER_COLOURS[0]);
    }
}
