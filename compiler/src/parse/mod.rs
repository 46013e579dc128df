//! The parser of the `network!` language: each rule's grammar, in
//! `$PLACEHOLDER` form, sits above the code that reads it.
//!
//! Beyond the syntax, three guarantees:
//! - each token is read once: the parser never backtracks over a nested
//!   list, so its time is linear in the input;
//! - nesting deeper than [`MAX_NESTING`] levels (parentheses, lists, `if`,
//!   unary and binary operators, field accesses, method calls, indexing) is
//!   a spanned error, not a stack overflow;
//! - a syntax error inside one body costs only that block or network: its
//!   header is kept (so a network's struct and consts still exist, as a stub)
//!   and the next items are parsed as usual.
//!
//! One file per part of the grammar: items and bodies here, expressions
//! (operators, method calls, indexing, named sources) in `parse/expr.rs`,
//! `->` stages and lists in `parse/stage.rs`.

mod expr;
mod stage;

use crate::ast::{BlockDef, Body, Input, Item, Let, NetworkDef, Param};
use crate::value::Range;
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use std::cell::Cell;
use syn::parse::discouraged::Speculative;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{braced, bracketed, parenthesized, Attribute, Ident, LitInt, Token, Visibility};

/// Keywords of the language that are not Rust keywords.
#[allow(missing_docs)]
pub mod kw {
    syn::custom_keyword!(block);
}

/// How deep expressions and lists may nest inside one body.
pub const MAX_NESTING: usize = 64;

thread_local! {
    /// Nesting depth of the parse in progress on this thread.
    static NESTING: Cell<usize> = const { Cell::new(0) };
}

/// One level of nesting, held while the level's contents are parsed.
pub(crate) struct Level;

impl Level {
    /// Enters a level opened by the token at `span`; an error past
    /// [`MAX_NESTING`].
    pub(crate) fn enter(span: Span) -> syn::Result<Level> {
        let depth = NESTING.with(|d| {
            let depth = d.get().saturating_add(1);
            d.set(depth);
            depth
        });
        let level = Level;
        if depth > MAX_NESTING {
            return Err(syn::Error::new(
                span,
                format!(
                    "this nests deeper than {MAX_NESTING} levels: move the inner part into a `let` or a block"
                ),
            ));
        }
        Ok(level)
    }
}

impl Drop for Level {
    fn drop(&mut self) {
        NESTING.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

pub(crate) fn join(a: impl Into<Range>, b: impl Into<Range>) -> Range {
    a.into().to(b)
}

pub(crate) fn delim(span: proc_macro2::extra::DelimSpan) -> Range {
    Range {
        start: span.open(),
        end: span.close(),
    }
}

/// ```text
/// $INPUT := ($ATTR* ($BLOCK | $NETWORK))*
/// ```
/// Only doc comments may precede a block; `#[budget(...)]` attributes of a
/// network are set apart from the others, which pass through.
impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut items = Vec::new();
        let mut errors = Vec::new();
        while !input.is_empty() {
            let attrs = input.call(Attribute::parse_outer)?;
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::block) {
                if let Some(attr) = attrs.iter().find(|a| !a.path().is_ident("doc")) {
                    return Err(syn::Error::new_spanned(
                        attr,
                        "only doc comments are allowed on blocks",
                    ));
                }
                let (block, error) = parse_block(input)?;
                errors.extend(error);
                items.push(Item::Block(block));
            } else if lookahead.peek(Token![pub]) || lookahead.peek(Token![struct]) {
                let (mut net, error) = parse_network(input)?;
                errors.extend(error);
                for attr in attrs {
                    if attr.path().is_ident("budget") {
                        net.budgets.push(attr);
                    } else {
                        net.attrs.push(attr);
                    }
                }
                items.push(Item::Network(net));
            } else {
                return Err(lookahead.error());
            }
        }
        Ok(Input { items, errors })
    }
}

/// ```text
/// $BLOCK := "block" $IDENT "(" $IDENT ("," $PARAM)* ","? ")" $BODY
/// $PARAM := $IDENT ("=" $EXPR)?
/// ```
/// An error in the header fails the parse; an error in the body is returned
/// beside the block, whose body is then `None`.
fn parse_block(input: ParseStream) -> syn::Result<(BlockDef, Option<syn::Error>)> {
    input.parse::<kw::block>()?;
    let name: Ident = input.parse()?;
    let content;
    parenthesized!(content in input);
    let first: Ident = content.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected the block's input tensor name first, as in `block Name(x, ...)`",
        )
    })?;
    let mut params = Vec::new();
    while !content.is_empty() {
        content.parse::<Token![,]>()?;
        if content.is_empty() {
            break;
        }
        let name: Ident = content.parse()?;
        let default = if content.peek(Token![=]) {
            content.parse::<Token![=]>()?;
            Some(content.parse()?)
        } else {
            None
        };
        params.push(Param { name, default });
    }
    let (body, error) = split(parse_body(input)?);
    let block = BlockDef {
        name,
        input: first,
        params,
        body,
    };
    Ok((block, error))
}

/// ```text
/// $NETWORK := $VIS "struct" $IDENT "(" $IDENT ":" "[" $INT ("," $INT)* ","? "]" ")" $BODY
/// ```
/// As for blocks, an error in the body is returned beside the network.
fn parse_network(input: ParseStream) -> syn::Result<(NetworkDef, Option<syn::Error>)> {
    let vis: Visibility = input.parse()?;
    input.parse::<Token![struct]>()?;
    let name: Ident = input.parse()?;
    let content;
    parenthesized!(content in input);
    let tensor: Ident = content.parse()?;
    content.parse::<Token![:]>()?;
    let dims;
    let bracket = bracketed!(dims in content);
    let shape = dims.parse_terminated(LitInt::parse, Token![,])?;
    if !content.is_empty() {
        return Err(content.error("a network takes one input: expected `)`"));
    }
    let (body, error) = split(parse_body(input)?);
    let net = NetworkDef {
        attrs: Vec::new(),
        budgets: Vec::new(),
        vis,
        name,
        input: tensor,
        shape: shape.into_iter().collect(),
        shape_span: bracket.span.join(),
        body,
    };
    Ok((net, error))
}

fn split(body: syn::Result<Body>) -> (Option<Body>, Option<syn::Error>) {
    match body {
        Ok(b) => (Some(b), None),
        Err(e) => (None, Some(e)),
    }
}

/// Parses a body's `{ ... }` group from `input` (an error without one): the
/// outer result is the header's, the inner one the body's.
///
/// The body is read on a fork, which `input` then skips to; after an error
/// it is read again on its own, so that the error leaves `input` just past
/// the group, ready for the next item. (Every group of the body's grammar is
/// read to its end, so no leftover token can go unreported on the fork.)
fn parse_body(input: ParseStream) -> syn::Result<syn::Result<Body>> {
    if input.peek(syn::token::Brace) {
        let fork = input.fork();
        if let Ok(body) = fork.parse::<Body>() {
            input.advance_to(&fork);
            return Ok(Ok(body));
        }
    }
    let group = input.step(|cursor| match cursor.token_tree() {
        Some((tt @ TokenTree::Group(_), rest))
            if matches!(&tt, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace) =>
        {
            Ok((tt, rest))
        }
        _ => Err(cursor.error("expected curly braces")),
    })?;
    Ok(Body::parse.parse2(TokenStream::from(group)))
}

impl Parse for BlockDef {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let (block, error) = parse_block(input)?;
        error.map_or(Ok(block), Err)
    }
}

impl Parse for NetworkDef {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let (net, error) = parse_network(input)?;
        error.map_or(Ok(net), Err)
    }
}

/// ```text
/// $BODY := "{" $LET* $EXPR "}"     the result; a network's may be a tuple of tensors (several outputs)
/// ```
impl Parse for Body {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        braced!(content in input);
        let mut lets = Vec::new();
        while content.peek(Token![let]) {
            lets.push(content.parse()?);
        }
        if content.is_empty() {
            return Err(content.error("expected the body's result expression"));
        }
        let result = content.parse()?;
        if !content.is_empty() {
            return Err(content.error(
                "expected `}` after the result expression (only `let` statements end with `;`)",
            ));
        }
        Ok(Body { lets, result })
    }
}

/// ```text
/// $LET := "let" ($IDENT | "(" $IDENT ("," $IDENT)* ","? ")") "=" $EXPR ";"
/// ```
impl Parse for Let {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        input.parse::<Token![let]>()?;
        let (names, tuple) = if input.peek(syn::token::Paren) {
            let inner;
            parenthesized!(inner in input);
            let names = inner.parse_terminated(Ident::parse, Token![,])?;
            (names.into_iter().collect(), true)
        } else {
            (vec![input.parse::<Ident>()?], false)
        };
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        input.parse::<Token![;]>()?;
        Ok(Let {
            names,
            tuple,
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{BinOp, ExprKind, ListItem, Spec};
    use std::str::FromStr;

    fn parse(src: &str) -> syn::Result<Input> {
        syn::parse2(TokenStream::from_str(src).expect("the source lexes"))
    }

    fn body_of(src: &str) -> Body {
        let input = parse(&format!("pub struct N(x: [3]) {{ {src} }}")).expect("it parses");
        assert!(input.errors.is_empty(), "{:?}", input.errors);
        match input.items.into_iter().next() {
            Some(Item::Network(n)) => n.body.expect("a body"),
            _ => panic!("no network"),
        }
    }

    fn body_error(src: &str) -> String {
        let input = parse(&format!("pub struct N(x: [3]) {{ {src} }}")).expect("the header parses");
        let mut errors = input.errors.into_iter();
        let first = errors.next().expect("a body error").to_string();
        assert!(errors.next().is_none());
        first
    }

    #[test]
    fn operators_follow_precedence() {
        let body = body_of("1 + 2 * 3 == 7 && true");
        let ExprKind::Binary(lhs, BinOp::And, _) = &body.result.kind else {
            panic!("`&&` binds loosest: {:?}", body.result.kind);
        };
        let ExprKind::Binary(sum, BinOp::Eq, _) = &lhs.kind else {
            panic!("then `==`");
        };
        let ExprKind::Binary(_, BinOp::Add, product) = &sum.kind else {
            panic!("then `+`");
        };
        assert!(matches!(product.kind, ExprKind::Binary(_, BinOp::Mul, _)));
    }

    #[test]
    fn a_list_whose_first_stage_is_followed_by_a_semicolon_is_a_repetition() {
        let body =
            body_of("x -> [Conv2d(8, 3); 4] -> [ReLU, for i in 0..2 => ReLU, if true { ReLU }]");
        let ExprKind::Chain(_, stages) = &body.result.kind else {
            panic!("a chain");
        };
        assert!(matches!(stages[0].spec, Spec::Repeat { .. }));
        let Spec::List { items, .. } = &stages[1].spec else {
            panic!("a list");
        };
        assert!(matches!(
            items.as_slice(),
            [
                ListItem::Stage(_),
                ListItem::For { .. },
                ListItem::If { .. }
            ]
        ));
    }

    #[test]
    fn tuples_need_a_comma_and_parentheses_group() {
        let body = body_of("let (a, b) = (1, 2); ((a),)");
        assert_eq!(body.lets.len(), 1);
        assert!(body.lets[0].tuple);
        assert!(matches!(&body.result.kind, ExprKind::Tuple(items) if items.len() == 1));
    }

    #[test]
    fn wrong_tokens_name_what_was_expected() {
        assert_eq!(
            body_error("x -> 3"),
            "expected square brackets or identifier"
        );
        assert_eq!(
            body_error("x -> ReLU;"),
            "expected `}` after the result expression (only `let` statements end with `;`)"
        );
        assert_eq!(
            body_error("if true { x }"),
            "expected `else`: an `if` expression needs both branches"
        );
    }

    #[test]
    fn a_body_error_keeps_the_header_and_the_next_items() {
        let input = parse(
            "pub struct A(x: [3]) { x -> -> ReLU }
             pub struct B(x: [3]) { x -> ReLU }",
        )
        .expect("the headers parse");
        assert_eq!(input.errors.len(), 1);
        let [Item::Network(a), Item::Network(b)] = input.items.as_slice() else {
            panic!("two networks");
        };
        assert_eq!(
            (a.name.to_string(), a.body.is_none()),
            ("A".to_string(), true)
        );
        assert_eq!(
            (b.name.to_string(), b.body.is_some()),
            ("B".to_string(), true)
        );
    }

    #[test]
    fn a_leftover_token_in_an_if_branch_is_reported() {
        assert_eq!(body_error("if true { x y } else { x }"), "unexpected token");
        assert_eq!(body_error("if true { x } else { x y }"), "unexpected token");
    }

    #[test]
    fn a_header_error_fails_the_parse() {
        let e = parse("pub struct A(x: [3], y: [3]) { x }").unwrap_err();
        assert_eq!(e.to_string(), "a network takes one input: expected `)`");
    }

    #[test]
    fn nesting_is_limited() {
        let at_limit = format!("x -> Conv2d({}1{}, 1)", "(".repeat(63), ")".repeat(63));
        body_of(&at_limit);
        let message =
            "this nests deeper than 64 levels: move the inner part into a `let` or a block";
        for deep in [
            format!(
                "x -> Conv2d({}1{}, 1)",
                "(".repeat(10_000),
                ")".repeat(10_000)
            ),
            format!("x -> Conv2d({}1, 1)", "-".repeat(10_000)),
            format!(
                "x -> Conv2d({}1{}, 1)",
                "if true { ".repeat(6_000),
                " } else { 2 }".repeat(6_000)
            ),
            format!("x -> {}ReLU{}", "[".repeat(10_000), "]".repeat(10_000)),
            format!("x -> Conv2d(1{}, 1)", " + 1".repeat(10_000)),
        ] {
            assert_eq!(body_error(&deep), message);
        }
        // The counter unwinds with the error: the next parse starts at zero.
        body_of(&at_limit);
    }

    #[test]
    fn a_transformer_parses() {
        // The design's example: torchvision's ViT-B/16 encoder block.
        let input = parse(
            "block EncoderBlock(x, heads, mlp_dim) {
                 let y = x -> ln_1: LayerNorm(eps = 1e-6)
                           -> self_attention: MultiheadAttention(heads, batch_first = true)
                           -> dropout: Dropout(0.0);
                 let x = y + x;
                 let z = x -> ln_2: LayerNorm(eps = 1e-6)
                           -> mlp: [Linear(mlp_dim), GELU, Dropout(0.0), Linear(x.size(-1)), Dropout(0.0)];
                 x + z
             }
             block Attention(x, heads) {
                 let (q, k, v) = chunk(x -> qkv: Linear(3 * x.size(-1)), 3, dim = -1);
                 let a = softmax(q @ k.transpose(-2, -1) / 8.0, -1) @ v;
                 let pos = pos_embedding: Parameter(1, 197, 768);
                 (a + pos)[:, 1:, ..., None] -> proj: Linear(x.size(-1))
             }
             pub struct VitB16(x: [3, 224, 224]) {
                 let x = x -> conv_proj: Conv2d(768, 16, stride = 16);
                 let x = x.flatten(2).transpose(1, 2);
                 let cls = class_token: Parameter(1, 1, 768);
                 let x = cat(cls, x, dim = 1);
                 let x = x -> encoder: Encoder(12, 3072);
                 x[:, 0] -> heads: [head: Linear(1000)]
             }",
        )
        .expect("it parses");
        assert!(input.errors.is_empty(), "{:?}", input.errors);
        assert_eq!(input.items.len(), 3);
    }

    #[test]
    fn nested_lists_parse_in_linear_time() {
        // Each level read once: 60 levels of `[[...]]` (once exponential).
        let src = format!("x -> {}ReLU{}", "[".repeat(60), "]".repeat(60));
        body_of(&src);
        let mut repeated = "ReLU".to_string();
        for _ in 0..30 {
            repeated = format!("[{repeated}; 2]");
        }
        body_of(&format!("x -> {repeated}"));
    }
}
