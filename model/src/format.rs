//! Number formatting for reports and error messages, in one place.
//!
//! Everything is written by [`Text`], a fixed-capacity string that works in
//! `const` context, so the compile-time budget messages of `assert_budget!`
//! and the reports rendered at run time print numbers the same way. The
//! `String` helpers ([`thousands`], [`si`], [`bytes`]) wrap it.

/// A fixed-capacity ASCII string that can be written in `const` context.
/// Text that does not fit is dropped (whole pieces, never half a character).
#[derive(Clone, Copy, Debug)]
pub struct Text<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Default for Text<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Decimal units of counts, largest first.
const SI_UNITS: [(u64, &str); 5] = [
    (1_000_000_000_000_000, "P"),
    (1_000_000_000_000, "T"),
    (1_000_000_000, "G"),
    (1_000_000, "M"),
    (1_000, "K"),
];

/// Binary units of bytes, largest first.
const BYTE_UNITS: [(u64, &str); 4] = [
    (1 << 40, "TiB"),
    (1 << 30, "GiB"),
    (1 << 20, "MiB"),
    (1 << 10, "KiB"),
];

impl<const N: usize> Text<N> {
    /// Empty.
    pub const fn new() -> Self {
        Text {
            buf: [0; N],
            len: 0,
        }
    }

    /// The text written so far.
    pub const fn as_str(&self) -> &str {
        let (head, _) = self.buf.split_at(self.len);
        match core::str::from_utf8(head) {
            Ok(s) => s,
            Err(_) => "",
        }
    }

    /// Appends `s` if it fits whole.
    pub const fn push_str(&mut self, s: &str) {
        let bytes = s.as_bytes();
        if bytes.len() > N - self.len {
            return;
        }
        let mut i = 0;
        while i < bytes.len() {
            self.buf[self.len + i] = bytes[i];
            i += 1;
        }
        self.len += bytes.len();
    }

    const fn push_byte(&mut self, b: u8) {
        if self.len < N {
            self.buf[self.len] = b;
            self.len += 1;
        }
    }

    /// Appends `n` in decimal, with a comma every three digits when `commas`.
    const fn push_digits(&mut self, n: u128, commas: bool) {
        let mut digits = [0u8; 39];
        let mut len = 0;
        let mut v = n;
        loop {
            digits[len] = b'0' + (v % 10) as u8;
            len += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        while len > 0 {
            len -= 1;
            self.push_byte(digits[len]);
            if commas && len > 0 && len % 3 == 0 {
                self.push_byte(b',');
            }
        }
    }

    /// Appends `n` as `1234567`.
    pub const fn push_u64(&mut self, n: u64) {
        self.push_digits(n as u128, false);
    }

    /// Appends `n` as `1,234,567`.
    pub const fn push_thousands(&mut self, n: u64) {
        self.push_digits(n as u128, true);
    }

    /// Appends a non-negative `value` with `decimals` digits after the point,
    /// rounded exactly as `format!("{value:.decimals$}")` rounds (the binary
    /// value, ties to even). Negative or non-finite values print as `0`.
    pub const fn push_fixed(&mut self, value: f64, decimals: u32) {
        let decimals = if decimals > 9 { 9 } else { decimals };
        let scale = 10u128.pow(decimals);
        let scaled = scaled_exact(value, scale);
        self.push_digits(scaled / scale, false);
        if decimals > 0 {
            self.push_byte(b'.');
            let frac = scaled % scale;
            let mut p = scale / 10;
            while p > 0 {
                self.push_byte(b'0' + ((frac / p) % 10) as u8);
                p /= 10;
            }
        }
    }

    /// Appends `value` with four significant digits for values from 1 to
    /// 999.9: one decimal from 100, two from 10, three below.
    const fn push_four_digits(&mut self, value: f64) {
        let decimals = if value >= 100.0 {
            1
        } else if value >= 10.0 {
            2
        } else {
            3
        };
        self.push_fixed(value, decimals);
    }

    /// Appends a count with a decimal unit and four significant digits:
    /// `300.8 M`, `1.814 G`; below a thousand, the plain number.
    pub const fn push_si(&mut self, n: u64) {
        let mut i = 0;
        while i < SI_UNITS.len() {
            let (scale, unit) = SI_UNITS[i];
            if n >= scale {
                self.push_four_digits(n as f64 / scale as f64);
                self.push_byte(b' ');
                self.push_str(unit);
                return;
            }
            i += 1;
        }
        self.push_u64(n);
    }

    /// Appends bytes with a binary unit: `512 B`, `3.062 MiB`.
    pub const fn push_bytes(&mut self, n: u64) {
        let mut i = 0;
        while i < BYTE_UNITS.len() {
            let (scale, unit) = BYTE_UNITS[i];
            if n >= scale {
                self.push_four_digits(n as f64 / scale as f64);
                self.push_byte(b' ');
                self.push_str(unit);
                return;
            }
            i += 1;
        }
        self.push_u64(n);
        self.push_str(" B");
    }
}

/// `value · scale` rounded to an integer, ties to even, computed exactly
/// from the bits of `value` (so it agrees with Rust's float formatting).
const fn scaled_exact(value: f64, scale: u128) -> u128 {
    if !value.is_finite() || value <= 0.0 {
        return 0;
    }
    let bits = value.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    // value = mantissa · 2^power
    let (mantissa, power) = if exponent == 0 {
        (fraction as u128, -1074)
    } else {
        ((fraction | (1 << 52)) as u128, exponent - 1075)
    };
    let num = mantissa * scale; // < 2^53 · 10^9 < 2^83
    if power >= 0 {
        let shift = if power > 44 { 44 } else { power as u32 };
        return num << shift;
    }
    let shift = (-power) as u32;
    if shift >= 127 {
        return 0;
    }
    let q = num >> shift;
    let rem = num - (q << shift);
    let half = 1u128 << (shift - 1);
    if rem > half || (rem == half && q % 2 == 1) {
        q + 1
    } else {
        q
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let mut t = Text::<32>::new();
    t.push_thousands(n);
    t.as_str().to_string()
}

/// A count with a decimal unit and four significant digits: `300.8 M`, `1.814 G`.
pub fn si(n: u64) -> String {
    let mut t = Text::<32>::new();
    t.push_si(n);
    t.as_str().to_string()
}

/// Bytes with a binary unit: `512 B`, `3.062 MiB`.
pub fn bytes(n: u64) -> String {
    let mut t = Text::<32>::new();
    t.push_bytes(n);
    t.as_str().to_string()
}

/// A non-negative value with `decimals` digits after the point, as
/// `format!("{value:.decimals$}")` prints it.
pub fn fixed(value: f64, decimals: u32) -> String {
    let mut t = Text::<64>::new();
    t.push_fixed(value, decimals);
    t.as_str().to_string()
}

/// A duration in seconds as `26.75 ms` (s, ms, us or ns, four significant digits).
pub fn seconds(t: f64) -> String {
    let (value, unit) = if t >= 1.0 {
        (t, "s")
    } else if t >= 1e-3 {
        (t * 1e3, "ms")
    } else if t >= 1e-6 {
        (t * 1e6, "us")
    } else {
        (t * 1e9, "ns")
    };
    let mut s = Text::<64>::new();
    s.push_four_digits(value);
    s.push_str(" ");
    s.push_str(unit);
    s.as_str().to_string()
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
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(si(300_774_272), "300.8 M");
        assert_eq!(si(1_814_073_344), "1.814 G");
        assert_eq!(si(11_689_512), "11.69 M");
        assert_eq!(si(999), "999");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 20), "3.000 MiB");
        assert_eq!(seconds(54.18e-6), "54.18 us");
        assert_eq!(seconds(0.02675), "26.75 ms");
    }

    #[test]
    fn fixed_rounds_like_the_standard_library() {
        // Ties go to even on the exact binary value: 0.125 -> 0.12, 0.375 -> 0.38,
        // 2.5 -> 2; 1.0005 is slightly below its decimal, so it rounds down.
        let cases = [
            0.125, 0.375, 2.5, 1.0005, 100.05, 0.0625, 79.2, 170.9, 1e-9, 5e-324, 999.95, 12.0,
            1e15, 3.25e-3,
        ];
        for v in cases {
            for d in 0..=4u32 {
                assert_eq!(fixed(v, d), format!("{v:.*}", d as usize), "{v} with {d}");
            }
        }
        // Every count the reports print agrees with the float formatting
        // the reports used before (`format!("{:.3}", n as f64 / 1e6)`).
        for n in (0..200_000u64).map(|i| i * 7_919 + 1_000_000) {
            let v = n as f64 / 1e6;
            assert_eq!(fixed(v, 3), format!("{v:.3}"));
        }
    }

    #[test]
    fn text_is_const() {
        const T: Text<32> = {
            let mut t = Text::new();
            t.push_thousands(1_555_200);
            t.push_str(" (");
            t.push_si(1_555_200);
            t.push_str(")");
            t
        };
        assert_eq!(T.as_str(), "1,555,200 (1.555 M)");
    }
}
