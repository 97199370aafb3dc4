//! The series of every chart and table: the execution models' names in
//! report order, and the colour each series is drawn in.

/// A colour as red, green, blue.
pub type Rgb = (u8, u8, u8);

/// An execution model the harness runs, as results name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelName {
    /// The `model` field of its records.
    pub name: &'static str,
    /// Its colour in every chart and swatch.
    pub colour: Rgb,
}

impl ModelName {
    const fn new(name: &'static str, colour: Rgb) -> Self {
        ModelName { name, colour }
    }
}

/// Every execution model, in the order reports list them. The one list:
/// the harness maps its models onto it (and a test there proves the two
/// agree), and report order, chart colours and marker shapes follow it.
/// The colours are the Okabe-Ito palette, which colour-blind readers can
/// tell apart; `seq` is black, so it never reads as the grey ideal line.
pub const MODELS: [ModelName; 7] = [
    ModelName::new("seq", (0, 0, 0)),
    ModelName::new("threads", (0, 114, 178)),
    ModelName::new("pool", (230, 159, 0)),
    ModelName::new("rayon", (0, 158, 115)),
    ModelName::new("process", (213, 94, 0)),
    ModelName::new("tokio", (204, 121, 167)),
    ModelName::new("tokio-current", (86, 180, 233)),
];

/// Colours for series whose names are not in [`MODELS`] (the variants of
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

/// The marker of the series `name`, the `position`-th of its chart: a
/// known model's own (its place in [`MODELS`]), otherwise by position.
pub fn series_marker(name: &str, position: usize) -> Marker {
    let index = MODELS
        .iter()
        .position(|m| m.name == name)
        .unwrap_or(position);
    MARKERS[index % MARKERS.len()]
}

/// Where `model` stands in report order: its place in [`MODELS`], or
/// after them all.
pub fn model_rank(model: &str) -> usize {
    MODELS
        .iter()
        .position(|m| m.name == model)
        .unwrap_or(MODELS.len())
}

/// The colour of the series `name`, the `position`-th series of its
/// section: a known model's own colour, otherwise one of
/// [`OTHER_COLOURS`] by position.
pub fn series_colour(name: &str, position: usize) -> Rgb {
    MODELS
        .iter()
        .find(|m| m.name == name)
        .map_or(OTHER_COLOURS[position % OTHER_COLOURS.len()], |m| m.colour)
}

#[cfg(test)]
mod model_list_tests {
    use super::*;

    #[test]
    fn every_model_has_its_own_colour() {
        let mut colours: Vec<Rgb> = MODELS.iter().map(|m| series_colour(m.name, 0)).collect();
        colours.extend(OTHER_COLOURS);
        colours.sort();
        colours.dedup();
        assert_eq!(colours.len(), MODELS.len() + OTHER_COLOURS.len());
    }

    #[test]
    fn every_model_has_its_own_marker() {
        let mut markers: Vec<usize> = MODELS
            .iter()
            .map(|m| {
                MARKERS
                    .iter()
                    .position(|k| *k == series_marker(m.name, 0))
                    .unwrap()
            })
            .collect();
        markers.dedup();
        assert_eq!(markers.len(), MODELS.len());
    }

    #[test]
    fn names_outside_the_list_get_colours_by_position() {
        assert_ne!(
            series_colour("python-threads", 0),
            series_colour("python-asyncio", 1)
        );
        assert_eq!(model_rank("seq"), 0);
        assert_eq!(model_rank("python-threads"), MODELS.len());
    }
}
