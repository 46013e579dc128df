//! Source ranges: the first and last token of a construct, so errors can
//! cover the whole construct on stable Rust.

use proc_macro2::{Punct, Spacing, Span, TokenStream, TokenTree};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_carries_its_message() {
        let r = Range::from(Span::call_site());
        let e = r.to(Span::call_site()).error("kernel 3 spans 5");
        assert_eq!(e.to_string(), "kernel 3 spans 5");
        // Two tokens (start and end) make up the error's span.
        assert_eq!(
            e.to_compile_error()
                .to_string()
                .matches("compile_error")
                .count(),
            1
        );
    }
}
