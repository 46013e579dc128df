//! Values of the language at expansion time, and the error collector.

use proc_macro2::{Punct, Spacing, Span, TokenStream, TokenTree};
use std::collections::HashSet;

/// The source range of a construct: its first and last token. Errors cover
/// the whole range, on stable Rust too (where `Span::join` is unavailable).
#[derive(Clone, Copy, Debug)]
pub struct Range {
    /// First token.
    pub start: Span,
    /// Last token.
    pub end: Span,
}

impl From<Span> for Range {
    fn from(span: Span) -> Self {
        Range {
            start: span,
            end: span,
        }
    }
}

impl Range {
    /// From the start of `self` to the end of `other`.
    pub fn to(self, other: impl Into<Range>) -> Range {
        Range {
            start: self.start,
            end: other.into().end,
        }
    }

    /// An error covering the range.
    pub fn error(self, message: impl std::fmt::Display) -> syn::Error {
        let token = |span| {
            let mut p = Punct::new('.', Spacing::Alone);
            p.set_span(span);
            TokenTree::Punct(p)
        };
        let tokens: TokenStream = [token(self.start), token(self.end)].into_iter().collect();
        syn::Error::new_spanned(tokens, message)
    }
}

/// A tensor flowing through the network: its value id and per-sample shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorVal {
    /// Value id (0 the input, `i + 1` the output of node `i`).
    pub id: usize,
    /// Per-sample shape.
    pub shape: Vec<usize>,
}

/// A value. `Poison` stands for the result of something that already failed,
/// so one mistake is reported once and not again by everything downstream.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string (`"same"`).
    Str(String),
    /// A tuple (`(3, 1)`, or the outputs of `chunk`).
    Tuple(Vec<Value>),
    /// A tensor.
    Tensor(TensorVal),
    /// The result of an error already reported.
    Poison,
}

impl Value {
    /// What the value is, for messages: "an integer", "a tensor".
    pub fn describe(&self) -> String {
        match self {
            Value::Int(v) => format!("the integer {v}"),
            Value::Float(v) => format!("the float {v}"),
            Value::Bool(v) => format!("the boolean {v}"),
            Value::Str(v) => format!("the string {v:?}"),
            Value::Tuple(v) => format!("a tuple of {}", v.len()),
            Value::Tensor(t) => format!("a tensor {}", netspec_model::shape::shape_str(&t.shape)),
            Value::Poison => "an invalid value".to_string(),
        }
    }
}

/// Collects every error of one invocation, each reported once.
#[derive(Default)]
pub struct Errors {
    list: Vec<syn::Error>,
    seen: HashSet<String>,
}

impl Errors {
    /// Records an error over `range`.
    pub fn push(&mut self, range: impl Into<Range>, message: impl Into<String>) {
        let range = range.into();
        let message = message.into();
        let key = format!("{:?} {:?} {message}", range.start, range.end);
        if self.seen.insert(key) {
            self.list.push(range.error(message));
        }
    }

    /// Records a ready error.
    pub fn push_error(&mut self, error: syn::Error) {
        for e in error {
            let key = format!("{:?} {e}", e.span());
            if self.seen.insert(key) {
                self.list.push(e);
            }
        }
    }

    /// Number of errors so far.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// All errors combined into one, if any.
    pub fn combined(self) -> Option<syn::Error> {
        let mut iter = self.list.into_iter();
        let mut first = iter.next()?;
        for e in iter {
            first.combine(e);
        }
        Some(first)
    }
}

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

/// The closest candidate to `name`, if it is close enough to be a typo.
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
        .min_by_key(|(d, _)| *d)
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
    }
}
