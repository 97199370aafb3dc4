//! File- and anchor-safe names for sections, charts and groups.

/// The slug of `text`, made unique among `used` (slugs are cut at 80
/// characters, so long specs can meet) and added to it.
pub(crate) fn unique_slug(text: &str, used: &mut Vec<String>) -> String {
    let mut id = slug(text);
    while used.contains(&id) {
        id.push('x');
    }
    used.push(id.clone());
    id
}

/// A file- and anchor-safe name.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe() {
        assert_eq!(
            slug("synthetic/amdahl:serial_fraction=0.25-strong-none"),
            "synthetic-amdahl-serial-fraction-0-25-strong-none"
        );
        assert_eq!(slug("<script>"), "script");
    }
}
