//! Number formatting for reports and error messages.

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn four_digits(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.1}")
    } else if value >= 10.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// A count with a decimal unit and four significant digits: `300.8 M`, `1.814 G`.
pub fn si(n: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (1_000_000_000_000_000, "P"),
        (1_000_000_000_000, "T"),
        (1_000_000_000, "G"),
        (1_000_000, "M"),
        (1_000, "K"),
    ];
    for (scale, unit) in UNITS {
        if n >= scale {
            return format!("{} {unit}", four_digits(n as f64 / scale as f64));
        }
    }
    n.to_string()
}

/// Bytes with a binary unit: `512 B`, `3.062 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    for (scale, unit) in UNITS {
        if n >= scale {
            return format!("{} {unit}", four_digits(n as f64 / scale as f64));
        }
    }
    format!("{n} B")
}

/// A shape as `[64, 56, 56]`.
pub fn shape(dims: &[usize]) -> String {
    crate::shape::shape_str(dims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(300_774_272), "300,774,272");
        assert_eq!(si(300_774_272), "300.8 M");
        assert_eq!(si(1_814_073_344), "1.814 G");
        assert_eq!(si(11_689_512), "11.69 M");
        assert_eq!(si(999), "999");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 20), "3.000 MiB");
    }
}
