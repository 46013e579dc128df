//! "Did you mean": the closest known name to a misspelt one.

/// Levenshtein distance, for "did you mean" suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate to `name`, if it is close enough to be a typo; of
/// candidates equally close, the first in alphabetical order (so that the
/// answer does not depend on the order of a hash map).
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            let d = if c.to_lowercase() == lower {
                0
            } else {
                distance(&lower, &c.to_lowercase()) + 1
            };
            (d, c)
        })
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|&(d, c)| (d, c))
        .map(|(_, c)| c)
}

/// `", did you mean `x`?"` or nothing.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match suggest(name, candidates) {
        Some(s) => format!(", did you mean `{s}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("Conv2D", ["Conv2d", "Linear"]), Some("Conv2d"));
        assert_eq!(suggest("Lnear", ["Conv2d", "Linear"]), Some("Linear"));
        assert_eq!(suggest("Transformer", ["Conv2d", "Linear"]), None);
        assert_eq!(suggest("strde", ["stride", "padding"]), Some("stride"));
        // Ties go to the first name alphabetically, whatever the order given.
        assert_eq!(suggest("y", ["x", "m"]), Some("m"));
        assert_eq!(suggest("y", ["m", "x"]), Some("m"));
    }
}
