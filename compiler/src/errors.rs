//! The error collector: every error of one invocation, each reported once,
//! combined into one `syn::Error` at the end.

use crate::span::Range;
use std::collections::HashSet;

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

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    #[test]
    fn the_same_error_is_reported_once() {
        let mut errors = Errors::default();
        assert!(errors.is_empty());
        errors.push(Span::call_site(), "undefined name `y`");
        errors.push(Span::call_site(), "undefined name `y`");
        errors.push(Span::call_site(), "undefined name `z`");
        assert_eq!(errors.len(), 2);
        let combined = errors.combined().map(|e| e.into_iter().count());
        assert_eq!(combined, Some(2));
    }

    #[test]
    fn no_errors_combine_to_none() {
        assert!(Errors::default().combined().is_none());
    }
}
