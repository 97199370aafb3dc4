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
/// agree), and report order and chart colours follow it.
pub const MODELS: [ModelName; 7] = [
    ModelName::new("seq", (110, 110, 110)),
    ModelName::new("threads", (31, 119, 180)),
    ModelName::new("pool", (255, 127, 14)),
    ModelName::new("rayon", (44, 160, 44)),
    ModelName::new("process", (214, 39, 40)),
    ModelName::new("tokio", (148, 103, 189)),
    ModelName::new("tokio-current", (140, 86, 75)),
];

/// Colours for series whose names are not in [`MODELS`] (the variants of
/// an outside program, say), handed out by their position within a
/// section so that no two share a colour: the Okabe-Ito palette, which
/// colour-blind readers can tell apart.
pub const OTHER_COLOURS: [Rgb; 8] = [
    (230, 159, 0),
    (86, 180, 233),
    (0, 158, 115),
    (204, 121, 167),
    (0, 114, 178),
    (213, 94, 0),
    (240, 228, 66),
    (0, 0, 0),
];

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
    fn names_outside_the_list_get_colours_by_position() {
        assert_ne!(
            series_colour("python-threads", 0),
            series_colour("python-asyncio", 1)
        );
        assert_eq!(model_rank("seq"), 0);
        assert_eq!(model_rank("python-threads"), MODELS.len());
    }
}
