//! The parser of the `network!` language: each rule's grammar, in
//! `$PLACEHOLDER` form, sits above the code that reads it.
//!
//! Beyond the syntax, three guarantees:
//! - each token is read once: the parser never backtracks over a nested
//!   list, so its time is linear in the input;
//! - nesting deeper than [`MAX_NESTING`] levels (parentheses, lists, `if`,
//!   unary and binary operators, field accesses) is a spanned error, not a
//!   stack overflow;
//! - a syntax error inside one body costs only that block or network: its
//!   header is kept (so a network's struct and consts still exist, as a stub)
//!   and the next items are parsed as usual.

use crate::ast::{
    Arg, BinOp, BlockDef, Body, Expr, ExprKind, Input, Item, Let, ListItem, NetworkDef, Param,
    Spec, Stage, UnOp,
};
use crate::value::Range;
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use std::cell::Cell;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{
    braced, bracketed, parenthesized, Attribute, Ident, LitBool, LitFloat, LitInt, LitStr, Token,
    Visibility,
};

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
struct Level;

impl Level {
    /// Enters a level opened by the token at `span`; an error past
    /// [`MAX_NESTING`].
    fn enter(span: Span) -> syn::Result<Level> {
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

fn join(a: impl Into<Range>, b: impl Into<Range>) -> Range {
    a.into().to(b)
}

fn delim(span: proc_macro2::extra::DelimSpan) -> Range {
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

/// Takes the `{ ... }` group of a body from `input` (an error without one)
/// and parses it on its own: the outer result is the header's, the inner
/// one the body's.
fn parse_body(input: ParseStream) -> syn::Result<syn::Result<Body>> {
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
/// $BODY := "{" $LET* $EXPR "}"
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

/// ```text
/// $EXPR := $LOGIC ("->" $STAGE)*
/// ```
impl Parse for Expr {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let head = parse_binary(input, 0)?;
        if !input.peek(Token![->]) {
            return Ok(head);
        }
        let mut stages = Vec::new();
        let mut span = head.span;
        while input.peek(Token![->]) {
            input.parse::<Token![->]>()?;
            let stage: Stage = input.parse()?;
            span = join(span, stage.spec.span());
            stages.push(stage);
        }
        Ok(Expr {
            kind: ExprKind::Chain(Box::new(head), stages),
            span,
        })
    }
}

fn peek_binop(input: ParseStream) -> Option<(BinOp, u8)> {
    // Longest tokens first.
    let ops: [(bool, BinOp, u8); 13] = [
        (input.peek(Token![||]), BinOp::Or, 1),
        (input.peek(Token![&&]), BinOp::And, 2),
        (input.peek(Token![==]), BinOp::Eq, 3),
        (input.peek(Token![!=]), BinOp::Ne, 3),
        (input.peek(Token![<=]), BinOp::Le, 3),
        (input.peek(Token![>=]), BinOp::Ge, 3),
        (
            input.peek(Token![<]) && !input.peek(Token![<=]),
            BinOp::Lt,
            3,
        ),
        (
            input.peek(Token![>]) && !input.peek(Token![>=]),
            BinOp::Gt,
            3,
        ),
        (input.peek(Token![+]), BinOp::Add, 4),
        (
            input.peek(Token![-]) && !input.peek(Token![->]),
            BinOp::Sub,
            4,
        ),
        (input.peek(Token![*]), BinOp::Mul, 5),
        (input.peek(Token![/]), BinOp::Div, 5),
        (input.peek(Token![%]), BinOp::Rem, 5),
    ];
    ops.into_iter()
        .find(|(hit, _, _)| *hit)
        .map(|(_, op, prec)| (op, prec))
}

fn parse_binop_token(input: ParseStream, op: BinOp) -> syn::Result<()> {
    match op {
        BinOp::Or => input.parse::<Token![||]>().map(drop),
        BinOp::And => input.parse::<Token![&&]>().map(drop),
        BinOp::Eq => input.parse::<Token![==]>().map(drop),
        BinOp::Ne => input.parse::<Token![!=]>().map(drop),
        BinOp::Le => input.parse::<Token![<=]>().map(drop),
        BinOp::Ge => input.parse::<Token![>=]>().map(drop),
        BinOp::Lt => input.parse::<Token![<]>().map(drop),
        BinOp::Gt => input.parse::<Token![>]>().map(drop),
        BinOp::Add => input.parse::<Token![+]>().map(drop),
        BinOp::Sub => input.parse::<Token![-]>().map(drop),
        BinOp::Mul => input.parse::<Token![*]>().map(drop),
        BinOp::Div => input.parse::<Token![/]>().map(drop),
        BinOp::Rem => input.parse::<Token![%]>().map(drop),
    }
}

/// ```text
/// $LOGIC := $ARITH (("||" | "&&" | "==" | "!=" | "<" | "<=" | ">" | ">=") $ARITH)*
/// $ARITH := $UNARY (("+" | "-" | "*" | "/" | "%") $UNARY)*
/// ```
/// Precedence climbing (all left-associative; comparisons do not chain).
/// Each operator deepens the tree by one level, counted against
/// [`MAX_NESTING`] while the rest of the expression is read.
fn parse_binary(input: ParseStream, min_prec: u8) -> syn::Result<Expr> {
    let mut lhs = parse_unary(input)?;
    let mut levels = Vec::new();
    while let Some((op, prec)) = peek_binop(input) {
        if prec < min_prec {
            break;
        }
        levels.push(Level::enter(input.span())?);
        parse_binop_token(input, op)?;
        let rhs = parse_binary(input, prec + 1)?;
        let span = join(lhs.span, rhs.span);
        lhs = Expr {
            kind: ExprKind::Binary(Box::new(lhs), op, Box::new(rhs)),
            span,
        };
    }
    Ok(lhs)
}

/// ```text
/// $UNARY := ("-" | "!") $UNARY | $POSTFIX
/// ```
fn parse_unary(input: ParseStream) -> syn::Result<Expr> {
    let op = if input.peek(Token![-]) {
        let t: Token![-] = input.parse()?;
        Some((UnOp::Neg, t.span))
    } else if input.peek(Token![!]) {
        let t: Token![!] = input.parse()?;
        Some((UnOp::Not, t.span))
    } else {
        None
    };
    match op {
        Some((op, span)) => {
            let _level = Level::enter(span)?;
            let inner = parse_unary(input)?;
            let span = join(span, inner.span);
            Ok(Expr {
                kind: ExprKind::Unary(op, Box::new(inner)),
                span,
            })
        }
        None => parse_postfix(input),
    }
}

/// ```text
/// $POSTFIX := $PRIMARY ("." $IDENT)*
/// ```
fn parse_postfix(input: ParseStream) -> syn::Result<Expr> {
    let mut expr = parse_primary(input)?;
    let mut levels = Vec::new();
    while input.peek(Token![.]) && !input.peek(Token![..]) {
        levels.push(Level::enter(input.span())?);
        input.parse::<Token![.]>()?;
        let field: Ident = input.parse()?;
        let span = join(expr.span, field.span());
        expr = Expr {
            kind: ExprKind::Field(Box::new(expr), field),
            span,
        };
    }
    Ok(expr)
}

/// ```text
/// $ARGS := ($ARG ("," $ARG)* ","?)?
/// $ARG  := ($IDENT "=")? $EXPR
/// ```
fn parse_args(input: ParseStream) -> syn::Result<Vec<Arg>> {
    let mut args = Vec::new();
    while !input.is_empty() {
        let name = if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let name: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            Some(name)
        } else {
            None
        };
        let value = input.parse()?;
        args.push(Arg { name, value });
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(args)
}

/// ```text
/// $PRIMARY := $INT | $FLOAT | $BOOL | $STR
///           | "if" $LOGIC "{" $EXPR "}" "else" "{" $EXPR "}"
///           | "(" $EXPR ("," $EXPR)* ","? ")"      a parenthesised expression or a tuple
///           | $IDENT "(" $ARGS ")"                 cat, chunk, narrow, mean, min, max, make_divisible, int
///           | $IDENT                               a variable
/// ```
fn parse_primary(input: ParseStream) -> syn::Result<Expr> {
    let lookahead = input.lookahead1();
    if lookahead.peek(LitInt) {
        let lit: LitInt = input.parse()?;
        let span = lit.span();
        Ok(Expr {
            kind: ExprKind::Int(lit),
            span: span.into(),
        })
    } else if lookahead.peek(LitFloat) {
        let lit: LitFloat = input.parse()?;
        let span = lit.span();
        Ok(Expr {
            kind: ExprKind::Float(lit),
            span: span.into(),
        })
    } else if lookahead.peek(LitBool) {
        let lit: LitBool = input.parse()?;
        Ok(Expr {
            kind: ExprKind::Bool(lit.value),
            span: lit.span.into(),
        })
    } else if lookahead.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        let span = lit.span();
        Ok(Expr {
            kind: ExprKind::Str(lit),
            span: span.into(),
        })
    } else if lookahead.peek(Token![if]) {
        let kw: Token![if] = input.parse()?;
        let _level = Level::enter(kw.span)?;
        let cond = parse_binary(input, 0)?;
        let then;
        braced!(then in input);
        let then: Expr = then.parse()?;
        input.parse::<Token![else]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `else`: an `if` expression needs both branches",
            )
        })?;
        let otherwise;
        let brace = braced!(otherwise in input);
        let otherwise: Expr = otherwise.parse()?;
        let span = join(kw.span, delim(brace.span));
        Ok(Expr {
            kind: ExprKind::If(Box::new(cond), Box::new(then), Box::new(otherwise)),
            span,
        })
    } else if lookahead.peek(syn::token::Paren) {
        let content;
        let paren = parenthesized!(content in input);
        let _level = Level::enter(paren.span.open())?;
        let items = content.parse_terminated(Expr::parse, Token![,])?;
        let span = delim(paren.span);
        let trailing = items.trailing_punct();
        let mut items: Vec<Expr> = items.into_iter().collect();
        match (items.pop(), items.is_empty(), trailing) {
            (Some(mut inner), true, false) => {
                inner.span = span;
                Ok(inner)
            }
            (None, ..) => Err(span.error("expected an expression inside `()`")),
            (Some(last), ..) => {
                items.push(last);
                Ok(Expr {
                    kind: ExprKind::Tuple(items),
                    span,
                })
            }
        }
    } else if lookahead.peek(Ident) {
        let name: Ident = input.parse()?;
        if input.peek(syn::token::Paren) {
            let content;
            let paren = parenthesized!(content in input);
            let _level = Level::enter(paren.span.open())?;
            let args = parse_args(&content)?;
            let span = join(name.span(), delim(paren.span));
            Ok(Expr {
                kind: ExprKind::Call(name, args),
                span,
            })
        } else {
            let span = name.span();
            Ok(Expr {
                kind: ExprKind::Var(name),
                span: span.into(),
            })
        }
    } else {
        Err(lookahead.error())
    }
}

/// ```text
/// $STAGE := ($IDENT ":")? $SPEC
/// ```
impl Parse for Stage {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name = if input.peek(Ident) && input.peek2(Token![:]) && !input.peek2(Token![::]) {
            let name: Ident = input.parse()?;
            input.parse::<Token![:]>()?;
            Some(name)
        } else {
            None
        };
        let spec = input.parse()?;
        Ok(Stage { name, spec })
    }
}

/// ```text
/// $SPEC      := $IDENT ("(" $ARGS ")")?          a layer or a block
///             | "[" $STAGE ";" $EXPR "]"         one stage repeated
///             | "[" $ITEM_LIST "]"               a list: items named 0, 1, ...
/// $ITEM_LIST := ($LIST_ITEM ("," $LIST_ITEM)* ","?)?
/// ```
/// A list's first stage is read once: a `;` after it makes the list a
/// repetition, anything else continues the list.
impl Parse for Spec {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let lookahead = input.lookahead1();
        if lookahead.peek(syn::token::Bracket) {
            let content;
            let bracket = bracketed!(content in input);
            let _level = Level::enter(bracket.span.open())?;
            let span = delim(bracket.span);
            let mut items = Vec::new();
            if !content.is_empty() && !content.peek(Token![for]) && !content.peek(Token![if]) {
                let first: Stage = content.parse()?;
                if content.peek(Token![;]) {
                    content.parse::<Token![;]>()?;
                    let count: Expr = content.parse()?;
                    if !content.is_empty() {
                        return Err(content.error("expected `]` after the repeat count"));
                    }
                    return Ok(Spec::Repeat {
                        item: Box::new(first),
                        count,
                        span,
                    });
                }
                items.push(ListItem::Stage(first));
                if !content.is_empty() {
                    content.parse::<Token![,]>()?;
                }
            }
            while !content.is_empty() {
                items.push(content.parse()?);
                if content.is_empty() {
                    break;
                }
                content.parse::<Token![,]>()?;
            }
            Ok(Spec::List { items, span })
        } else if lookahead.peek(Ident) {
            let name: Ident = input.parse()?;
            if input.peek(syn::token::Paren) {
                let content;
                let paren = parenthesized!(content in input);
                let _level = Level::enter(paren.span.open())?;
                let args = parse_args(&content)?;
                let span = join(name.span(), delim(paren.span));
                Ok(Spec::Call { name, args, span })
            } else {
                let span = name.span();
                Ok(Spec::Call {
                    name,
                    args: Vec::new(),
                    span: span.into(),
                })
            }
        } else {
            Err(lookahead.error())
        }
    }
}

/// ```text
/// $LIST_ITEM := "for" $IDENT "in" $LOGIC ".." $LOGIC "=>" $STAGE
///             | "if" $LOGIC "{" $STAGE? "}" ("else" "{" $STAGE? "}")?
///             | $STAGE
/// ```
impl Parse for ListItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Token![for]) {
            input.parse::<Token![for]>()?;
            let var: Ident = input.parse()?;
            input.parse::<Token![in]>()?;
            let start = parse_binary(input, 0)?;
            input.parse::<Token![..]>()?;
            let end = parse_binary(input, 0)?;
            input.parse::<Token![=>]>()?;
            let body = input.parse()?;
            Ok(ListItem::For {
                var,
                start,
                end,
                body: Box::new(body),
            })
        } else if input.peek(Token![if]) {
            input.parse::<Token![if]>()?;
            let cond = parse_binary(input, 0)?;
            let then = parse_optional_stage(input)?;
            let otherwise = if input.peek(Token![else]) {
                input.parse::<Token![else]>()?;
                parse_optional_stage(input)?
            } else {
                None
            };
            Ok(ListItem::If {
                cond,
                then,
                otherwise,
            })
        } else {
            Ok(ListItem::Stage(input.parse()?))
        }
    }
}

/// ```text
/// "{" $STAGE? "}"
/// ```
fn parse_optional_stage(input: ParseStream) -> syn::Result<Option<Box<Stage>>> {
    let content;
    braced!(content in input);
    if content.is_empty() {
        return Ok(None);
    }
    let stage = content.parse()?;
    if !content.is_empty() {
        return Err(content.error("expected `}`: a conditional list item holds one stage"));
    }
    Ok(Some(Box::new(stage)))
}

#[cfg(test)]
mod tests {
    use super::*;
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
