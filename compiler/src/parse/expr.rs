//! Expressions: operators by precedence, unary operators, suffixes (field
//! accesses, method calls, indexing), literals, `if`, tuples, function calls
//! and named sources.

use super::{delim, join, Level};
use crate::ast::{Arg, BinOp, Expr, ExprKind, IndexItem, Stage, UnOp};
use crate::value::Range;
use syn::parse::{Parse, ParseStream};
use syn::{braced, bracketed, parenthesized, Ident, LitBool, LitFloat, LitInt, LitStr, Token};

/// ```text
/// $EXPR := $LOGIC ("->" $STAGE)*
/// ```
/// A chain starts from any value: a tensor, a tuple (`(q, k, v) -> attn:
/// MultiheadAttention(8)`), a named source (`tokens: Parameter(6, 192) ->
/// proj: Linear(64)`).
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

/// Where an expression stands. In value position, an identifier followed
/// by a single `:` starts a named source (`cls: Parameter(1, 768)`); inside
/// index brackets the `:` ends the expression instead (`x[n:]`, `x[a:b]`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Value,
    Index,
}

fn peek_binop(input: ParseStream) -> Option<(BinOp, u8)> {
    // Longest tokens first.
    let ops: [(bool, BinOp, u8); 14] = [
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
        (input.peek(Token![@]), BinOp::MatMul, 5),
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
        BinOp::MatMul => input.parse::<Token![@]>().map(drop),
        BinOp::Div => input.parse::<Token![/]>().map(drop),
        BinOp::Rem => input.parse::<Token![%]>().map(drop),
    }
}

/// ```text
/// $LOGIC := $ARITH (("||" | "&&" | "==" | "!=" | "<" | "<=" | ">" | ">=") $ARITH)*
/// $ARITH := $UNARY (("+" | "-" | "*" | "@" | "/" | "%") $UNARY)*
/// ```
/// Precedence climbing (all left-associative; comparisons do not chain):
/// `||`, then `&&`, then comparisons, then `+ -`, then `* @ / %` (`@` as
/// in Python). Each operator deepens the tree by one level, counted against
/// [`MAX_NESTING`](super::MAX_NESTING) while the rest of the expression is
/// read.
pub(crate) fn parse_binary(input: ParseStream, min_prec: u8) -> syn::Result<Expr> {
    binary(input, min_prec, Place::Value)
}

fn binary(input: ParseStream, min_prec: u8, place: Place) -> syn::Result<Expr> {
    let mut lhs = parse_unary(input, place)?;
    let mut levels = Vec::new();
    while let Some((op, prec)) = peek_binop(input) {
        if prec < min_prec {
            break;
        }
        levels.push(Level::enter(input.span())?);
        parse_binop_token(input, op)?;
        let rhs = binary(input, prec + 1, place)?;
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
fn parse_unary(input: ParseStream, place: Place) -> syn::Result<Expr> {
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
            let inner = parse_unary(input, place)?;
            let span = join(span, inner.span);
            Ok(Expr {
                kind: ExprKind::Unary(op, Box::new(inner)),
                span,
            })
        }
        None => parse_postfix(input, place),
    }
}

/// ```text
/// $POSTFIX := $PRIMARY $SUFFIX*
/// $SUFFIX  := "." $IDENT "(" $ARGS ")"            a method call: x.flatten(2), x.size(-1)
///           | "." $IDENT                          a field: x.channels
///           | "[" $INDEX ("," $INDEX)* ","? "]"   indexing: x[:, 0], x[..., :64], t[None]
/// ```
/// Suffixes bind tighter than any operator (`-x[0]` is `-(x[0])`) and read
/// left to right (`x.flatten(2).transpose(1, 2)`); each one is a level of
/// nesting. A `[` is a suffix only right after a value, so a list stage
/// after `->` (`x -> [A, B]`) is not indexing.
fn parse_postfix(input: ParseStream, place: Place) -> syn::Result<Expr> {
    let mut expr = parse_primary(input, place)?;
    let mut levels = Vec::new();
    loop {
        if input.peek(Token![.]) && !input.peek(Token![..]) {
            levels.push(Level::enter(input.span())?);
            input.parse::<Token![.]>()?;
            if !input.peek(Ident) {
                return Err(input.error(
                    "expected a field or a method name after `.`, as in `x.channels` or `x.size(1)`",
                ));
            }
            let name: Ident = input.parse()?;
            expr = if input.peek(syn::token::Paren) {
                let (args, parens) = parse_paren_args(input)?;
                let span = join(expr.span, parens);
                Expr {
                    kind: ExprKind::Method(Box::new(expr), name, args),
                    span,
                }
            } else {
                let span = join(expr.span, name.span());
                Expr {
                    kind: ExprKind::Field(Box::new(expr), name),
                    span,
                }
            };
        } else if input.peek(syn::token::Bracket) {
            levels.push(Level::enter(input.span())?);
            let content;
            let bracket = bracketed!(content in input);
            let brackets = delim(bracket.span);
            let items = parse_index(&content, brackets)?;
            let span = join(expr.span, brackets);
            expr = Expr {
                kind: ExprKind::Index(Box::new(expr), items),
                span,
            };
        } else {
            return Ok(expr);
        }
    }
}

/// The error for `::` or a second `:` in an index.
const SLICE_STEP: &str = "a slice is `start:end`: steps (`x[::2]`, `x[1:8:2]`) are not supported";

/// ```text
/// "[" $INDEX ("," $INDEX)* ","? "]"
/// ```
/// The contents of index brackets, read to the end (at least one item).
fn parse_index(input: ParseStream, brackets: Range) -> syn::Result<Vec<IndexItem>> {
    if input.is_empty() {
        return Err(brackets.error("expected an index inside `[]`, as in `x[:, 0]`"));
    }
    let mut items = Vec::new();
    while !input.is_empty() {
        let item = parse_index_item(input)?;
        let slice = matches!(item, IndexItem::Slice { .. } | IndexItem::Full(_));
        items.push(item);
        if input.is_empty() {
            break;
        }
        if slice && input.peek(Token![:]) {
            return Err(input.error(SLICE_STEP));
        }
        if !input.peek(Token![,]) {
            return Err(input.error("expected `,` or `]` after an index"));
        }
        input.parse::<Token![,]>()?;
    }
    Ok(items)
}

/// ```text
/// $INDEX := "..."                    every dimension not indexed
///         | "None"                   a new dimension of size 1
///         | ":"                      a whole dimension
///         | $LOGIC ":" $LOGIC?       a slice from start
///         | ":" $LOGIC               a slice to end
///         | $LOGIC                   one position
/// ```
/// Inside the brackets an expression stops before `:`, and `name:` is a
/// slice's start, never a named source. `::` (steps) is an error.
fn parse_index_item(input: ParseStream) -> syn::Result<IndexItem> {
    if input.peek(Token![...]) {
        let dots: Token![...] = input.parse()?;
        return Ok(IndexItem::Ellipsis(Range {
            start: dots.spans[0],
            end: dots.spans[2],
        }));
    }
    if matches!(input.cursor().ident(), Some((ident, _)) if ident == "None") {
        let none: Ident = input.parse()?;
        if !input.is_empty() && !input.peek(Token![,]) {
            return Err(input.error(
                "`None` stands alone in an index (a new dimension of size 1): expected `,` or `]`",
            ));
        }
        return Ok(IndexItem::NewAxis(none.span().into()));
    }
    if input.peek(Token![::]) {
        return Err(input.error(SLICE_STEP));
    }
    let start = if input.peek(Token![:]) {
        None
    } else {
        let start = binary(input, 0, Place::Index)?;
        if input.peek(Token![::]) {
            return Err(input.error(SLICE_STEP));
        }
        if !input.peek(Token![:]) {
            return Ok(IndexItem::At(start));
        }
        Some(start)
    };
    let colon: Token![:] = input.parse()?;
    if input.peek(Token![:]) {
        return Err(input.error(SLICE_STEP));
    }
    let end = if input.is_empty() || input.peek(Token![,]) {
        None
    } else {
        Some(binary(input, 0, Place::Index)?)
    };
    let first = start.as_ref().map_or(colon.span.into(), |e| e.span);
    let last = end.as_ref().map_or(colon.span.into(), |e| e.span);
    Ok(match (start, end) {
        (None, None) => IndexItem::Full(colon.span.into()),
        (start, end) => IndexItem::Slice {
            start,
            end,
            span: join(first, last),
        },
    })
}

/// ```text
/// "(" $ARGS ")"
/// ```
/// Arguments in parentheses, one level of nesting, with the parentheses'
/// span.
pub(crate) fn parse_paren_args(input: ParseStream) -> syn::Result<(Vec<Arg>, Range)> {
    let content;
    let paren = parenthesized!(content in input);
    let _level = Level::enter(paren.span.open())?;
    let args = parse_args(&content)?;
    Ok((args, delim(paren.span)))
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
///           | $IDENT ":" $IDENT ("(" $ARGS ")")?   a named source: class_token: Parameter(1, 1, 768);
///                                                  with a layer or block, a module: branch: Conv2d(64, 3)
///           | $IDENT "(" $ARGS ")"                 cat, chunk, narrow, mean, min, max, make_divisible, int, ...;
///                                                  a module applied to one tensor: branch(x)
///           | $IDENT                               a variable
/// ```
/// A named source is read only in value position (not inside index
/// brackets, where `n:` starts a slice): an identifier followed by one `:`
/// (not `::`) commits to it.
fn parse_primary(input: ParseStream, place: Place) -> syn::Result<Expr> {
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
        let then_buf;
        braced!(then_buf in input);
        let then: Expr = then_buf.parse()?;
        if !then_buf.is_empty() {
            return Err(then_buf.error("unexpected token"));
        }
        input.parse::<Token![else]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `else`: an `if` expression needs both branches",
            )
        })?;
        let otherwise_buf;
        let brace = braced!(otherwise_buf in input);
        let otherwise: Expr = otherwise_buf.parse()?;
        if !otherwise_buf.is_empty() {
            return Err(otherwise_buf.error("unexpected token"));
        }
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
        if place == Place::Value && input.peek(Token![:]) && !input.peek(Token![::]) {
            input.parse::<Token![:]>()?;
            if !input.peek(Ident) {
                return Err(input.error(format!(
                    "expected a layer after `{name}:`, as in `{name}: Parameter(1, 768)`"
                )));
            }
            let kind: Ident = input.parse()?;
            let (args, span) = if input.peek(syn::token::Paren) {
                let (args, parens) = parse_paren_args(input)?;
                (args, join(kind.span(), parens))
            } else {
                (Vec::new(), kind.span().into())
            };
            Ok(Expr {
                span: join(name.span(), span),
                kind: ExprKind::Source {
                    name,
                    kind,
                    args,
                    span,
                },
            })
        } else if input.peek(syn::token::Paren) {
            let (args, parens) = parse_paren_args(input)?;
            let span = join(name.span(), parens);
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

#[cfg(test)]
mod tests {
    use crate::ast::{Arg, BinOp, Body, Expr, ExprKind, IndexItem, Spec, Stage, UnOp};
    use proc_macro2::TokenStream;
    use std::str::FromStr;

    /// The result of a body, `{ src }`.
    fn parse(src: &str) -> syn::Result<Body> {
        syn::parse_str::<Body>(&format!("{{ {src} }}"))
    }

    /// `src` parsed and printed with every operator parenthesised.
    fn show(src: &str) -> String {
        match parse(src) {
            Ok(body) => {
                let mut out: Vec<String> = body
                    .lets
                    .iter()
                    .map(|l| format!("let {} = {};", l.names[0], print(&l.value)))
                    .collect();
                out.push(print(&body.result));
                out.join(" ")
            }
            Err(e) => panic!("`{src}` does not parse: {e}"),
        }
    }

    fn error(src: &str) -> String {
        match parse(src) {
            Ok(body) => panic!("`{src}` parses: {body:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn print(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Int(l) => l.to_string(),
            ExprKind::Float(l) => l.to_string(),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Str(s) => format!("{:?}", s.value()),
            ExprKind::Var(n) => n.to_string(),
            ExprKind::Field(x, f) => format!("{}.{f}", print(x)),
            ExprKind::Method(x, f, args) => format!("{}.{f}({})", print(x), print_args(args)),
            ExprKind::Index(x, items) => {
                let items: Vec<String> = items.iter().map(print_item).collect();
                format!("{}[{}]", print(x), items.join(", "))
            }
            ExprKind::Call(f, args) => format!("{f}({})", print_args(args)),
            ExprKind::Source {
                name, kind, args, ..
            } => format!("<{name}: {kind}({})>", print_args(args)),
            ExprKind::Tuple(items) => {
                let items: Vec<String> = items.iter().map(print).collect();
                format!("({},)", items.join(", "))
            }
            ExprKind::Binary(a, op, b) => {
                let op = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::MatMul => "@",
                    BinOp::Div => "/",
                    BinOp::Rem => "%",
                    BinOp::Eq => "==",
                    BinOp::Ne => "!=",
                    BinOp::Lt => "<",
                    BinOp::Le => "<=",
                    BinOp::Gt => ">",
                    BinOp::Ge => ">=",
                    BinOp::And => "&&",
                    BinOp::Or => "||",
                };
                format!("({} {op} {})", print(a), print(b))
            }
            ExprKind::Unary(op, a) => {
                let op = if *op == UnOp::Neg { "-" } else { "!" };
                format!("{op}{}", print(a))
            }
            ExprKind::If(c, a, b) => {
                format!("if {} {{ {} }} else {{ {} }}", print(c), print(a), print(b))
            }
            ExprKind::Chain(head, stages) => {
                let stages: Vec<String> = stages.iter().map(print_stage).collect();
                format!("{} -> {}", print(head), stages.join(" -> "))
            }
        }
    }

    fn print_args(args: &[Arg]) -> String {
        let args: Vec<String> = args
            .iter()
            .map(|a| match &a.name {
                Some(n) => format!("{n} = {}", print(&a.value)),
                None => print(&a.value),
            })
            .collect();
        args.join(", ")
    }

    fn print_item(item: &IndexItem) -> String {
        let bound = |b: &Option<Expr>| b.as_ref().map(print).unwrap_or_default();
        match item {
            IndexItem::Full(_) => ":".to_string(),
            IndexItem::Slice { start, end, .. } => format!("{}:{}", bound(start), bound(end)),
            IndexItem::At(e) => print(e),
            IndexItem::NewAxis(_) => "None".to_string(),
            IndexItem::Ellipsis(_) => "...".to_string(),
        }
    }

    fn print_stage(stage: &Stage) -> String {
        let name = stage
            .name
            .as_ref()
            .map(|n| format!("{n}: "))
            .unwrap_or_default();
        let spec = match &stage.spec {
            Spec::Call { name, args, .. } if args.is_empty() => name.to_string(),
            Spec::Call { name, args, .. } => format!("{name}({})", print_args(args)),
            Spec::List { items, .. } => format!("[{} items]", items.len()),
            Spec::Repeat { .. } => "[repeat]".to_string(),
        };
        format!("{name}{spec}")
    }

    #[test]
    fn method_calls_chain_left_to_right() {
        assert_eq!(show("x.reshape(197, 768)"), "x.reshape(197, 768)");
        assert_eq!(
            show("x.flatten(2).transpose(1, 2)"),
            "x.flatten(2).transpose(1, 2)"
        );
        assert_eq!(show("x.size(-1)"), "x.size(-1)");
        assert_eq!(show("x.contiguous()"), "x.contiguous()");
        assert_eq!(
            show("x.flatten(start = 1, end = -1,)"),
            "x.flatten(start = 1, end = -1)"
        );
        assert_eq!(
            show("x.mean(1, keepdim = true).size(0)"),
            "x.mean(1, keepdim = true).size(0)"
        );
        assert_eq!(show("(a, b).f()"), "(a, b,).f()");
        assert_eq!(show("cat(a, b).size(1)"), "cat(a, b).size(1)");
        let body = parse("x.reshape(197, 768)").unwrap();
        let ExprKind::Method(recv, name, args) = &body.result.kind else {
            panic!("a method call: {:?}", body.result.kind);
        };
        assert!(matches!(recv.kind, ExprKind::Var(_)));
        assert_eq!((name.to_string(), args.len()), ("reshape".to_string(), 2));
    }

    #[test]
    fn a_field_without_parentheses_stays_a_field() {
        let body = parse("x.channels").unwrap();
        assert!(matches!(body.result.kind, ExprKind::Field(..)));
        assert_eq!(show("x.channels * 2"), "(x.channels * 2)");
        assert_eq!(show("x.size(1).channels"), "x.size(1).channels");
        assert_eq!(
            show("x.transpose(1, 2).channels"),
            "x.transpose(1, 2).channels"
        );
    }

    #[test]
    fn every_index_form() {
        assert_eq!(show("x[:, 0]"), "x[:, 0]");
        assert_eq!(show("x[:, 1:]"), "x[:, 1:]");
        assert_eq!(show("x[:, :, 2:5]"), "x[:, :, 2:5]");
        assert_eq!(show("x[..., :64]"), "x[..., :64]");
        assert_eq!(show("t[None]"), "t[None]");
        assert_eq!(show("x[:, -1]"), "x[:, -1]");
        assert_eq!(show("x[:-1]"), "x[:-1]");
        assert_eq!(show("x[-3:-1,]"), "x[-3:-1]");
        assert_eq!(show("x[None, :, None, ...]"), "x[None, :, None, ...]");
        assert_eq!(show("x[n:]"), "x[n:]");
        assert_eq!(show("x[a:b]"), "x[a:b]");
        assert_eq!(show("x[a + 1:n * 2]"), "x[(a + 1):(n * 2)]");
        assert_eq!(
            show("x[x.size(1) - 1:, f(a, b)]"),
            "x[(x.size(1) - 1):, f(a, b)]"
        );
        assert_eq!(show("x[0][1]"), "x[0][1]");
        assert_eq!(show("x[y[0]:]"), "x[y[0]:]");
        assert_eq!(
            show("x[if a { 1 } else { 2 }:]"),
            "x[if a { 1 } else { 2 }:]"
        );
        let body = parse("x[:, 1:, :5, 2:5, 0, None, ...]").unwrap();
        let ExprKind::Index(_, items) = &body.result.kind else {
            panic!("an index: {:?}", body.result.kind);
        };
        assert!(matches!(
            items.as_slice(),
            [
                IndexItem::Full(_),
                IndexItem::Slice {
                    start: Some(_),
                    end: None,
                    ..
                },
                IndexItem::Slice {
                    start: None,
                    end: Some(_),
                    ..
                },
                IndexItem::Slice {
                    start: Some(_),
                    end: Some(_),
                    ..
                },
                IndexItem::At(_),
                IndexItem::NewAxis(_),
                IndexItem::Ellipsis(_),
            ]
        ));
        // Every item has a span.
        for item in items {
            let _ = item.span();
        }
    }

    #[test]
    fn none_is_an_identifier_outside_brackets() {
        let body = parse("None").unwrap();
        assert!(matches!(&body.result.kind, ExprKind::Var(n) if n == "None"));
        assert_eq!(show("f(None)"), "f(None)");
        // Inside brackets but nested in a call, `None` is an argument again.
        assert_eq!(show("x[f(None)]"), "x[f(None)]");
        assert_eq!(show("x[None_1]"), "x[None_1]");
    }

    #[test]
    fn matmul_has_the_precedence_of_multiplication() {
        assert_eq!(show("a + b @ c * d"), "(a + ((b @ c) * d))");
        assert_eq!(show("a @ b @ c"), "((a @ b) @ c)");
        assert_eq!(show("a * b @ c / d % e"), "((((a * b) @ c) / d) % e)");
        assert_eq!(show("a @ b + c"), "((a @ b) + c)");
        assert_eq!(show("a @ b == c && d"), "(((a @ b) == c) && d)");
        assert_eq!(show("-a @ b"), "(-a @ b)");
    }

    #[test]
    fn suffixes_bind_tighter_than_any_operator() {
        assert_eq!(show("x.t(1,2)[:, 0] @ w"), "(x.t(1, 2)[:, 0] @ w)");
        assert_eq!(show("-x[0]"), "-x[0]");
        assert_eq!(show("-x.size(0)"), "-x.size(0)");
        assert_eq!(show("!x.f()"), "!x.f()");
        assert_eq!(show("a - x[0] / y.size(1)"), "(a - (x[0] / y.size(1)))");
        assert_eq!(show("(a + b)[0]"), "(a + b)[0]");
        assert_eq!(
            show("q @ k.transpose(-2, -1) / 8"),
            "((q @ k.transpose(-2, -1)) / 8)"
        );
    }

    #[test]
    fn minus_and_divide_work_between_any_values() {
        assert_eq!(show("x - y"), "(x - y)");
        assert_eq!(show("x / y"), "(x / y)");
        assert_eq!(show("x[0] - y.mean(1) / 2.0"), "(x[0] - (y.mean(1) / 2.0))");
        assert_eq!(show("a - -b"), "(a - -b)");
        assert_eq!(show("x - y -> ReLU"), "(x - y) -> ReLU");
    }

    #[test]
    fn named_sources_in_value_position() {
        assert_eq!(
            show("let cls = class_token: Parameter(1, 1, 768); cls"),
            "let cls = <class_token: Parameter(1, 1, 768)>; cls"
        );
        assert_eq!(show("t: Parameter"), "<t: Parameter()>");
        assert_eq!(
            show("let t = tokens: Parameter(6, 192) -> proj: Linear(64); t"),
            "let t = <tokens: Parameter(6, 192)> -> proj: Linear(64); t"
        );
        assert_eq!(
            show("x + pos: Parameter(1, 197, 768)"),
            "(x + <pos: Parameter(1, 197, 768)>)"
        );
        assert_eq!(
            show("cat(cls: Parameter(1, 1, 768), x, dim = 1)"),
            "cat(<cls: Parameter(1, 1, 768)>, x, dim = 1)"
        );
        let body = parse("class_token: Parameter(1, 1, 768)").unwrap();
        let ExprKind::Source {
            name, kind, args, ..
        } = &body.result.kind
        else {
            panic!("a source: {:?}", body.result.kind);
        };
        assert_eq!(
            (name.to_string(), kind.to_string(), args.len()),
            ("class_token".to_string(), "Parameter".to_string(), 3)
        );
    }

    #[test]
    fn a_tuple_or_an_index_may_start_a_chain() {
        assert_eq!(
            show("(q, k, v) -> attn: MultiheadAttention(8, batch_first = true)"),
            "(q, k, v,) -> attn: MultiheadAttention(8, batch_first = true)"
        );
        let body = parse("(q, k, v) -> attn: MultiheadAttention(8)").unwrap();
        let ExprKind::Chain(head, stages) = &body.result.kind else {
            panic!("a chain: {:?}", body.result.kind);
        };
        assert!(matches!(&head.kind, ExprKind::Tuple(items) if items.len() == 3));
        assert_eq!(stages.len(), 1);
        assert_eq!(
            show("x[:, 0] -> heads: [head: Linear(1000)]"),
            "x[:, 0] -> heads: [1 items]"
        );
    }

    #[test]
    fn a_list_stage_after_an_arrow_is_not_indexing() {
        assert_eq!(show("x -> [A, B]"), "x -> [2 items]");
        assert_eq!(
            show("x[0] -> [A, B] -> [C; 2]"),
            "x[0] -> [2 items] -> [repeat]"
        );
        assert_eq!(show("x -> A -> [B]"), "x -> A -> [1 items]");
    }

    #[test]
    fn steps_are_a_clear_error() {
        let step = "a slice is `start:end`: steps (`x[::2]`, `x[1:8:2]`) are not supported";
        for src in [
            "x[::2]",
            "x[::]",
            "x[1::2]",
            "x[a::b]",
            "x[1:2:3]",
            "x[:2:3]",
            "x[1: :2]",
            "x[: :2]",
            "x[0, 1:2:]",
            "x[1:2::]",
        ] {
            assert_eq!(error(src), step, "{src}");
        }
    }

    #[test]
    fn malformed_suffixes_name_what_was_expected() {
        let name = "expected a field or a method name after `.`, as in `x.channels` or `x.size(1)`";
        assert_eq!(error("x."), format!("unexpected end of input, {name}"));
        assert_eq!(error("x.0"), name);
        assert_eq!(error("x.(1)"), name);
        assert_eq!(error("x.f(1 2)"), "expected `,`");
        assert!(error("x.f(,)").starts_with("expected one of"));
        assert_eq!(
            error("x[]"),
            "expected an index inside `[]`, as in `x[:, 0]`"
        );
        assert_eq!(error("x[0 1]"), "expected `,` or `]` after an index");
        assert_eq!(error("x[...:3]"), "expected `,` or `]` after an index");
        assert_eq!(error("x[a.b c]"), "expected `,` or `]` after an index");
        assert!(error("x[,]").starts_with("expected one of"));
        assert!(error("x[..]").starts_with("expected one of"));
        assert_eq!(
            error("x[None:3]"),
            "`None` stands alone in an index (a new dimension of size 1): expected `,` or `]`"
        );
        assert_eq!(
            error("let c = cls: 3; c"),
            "expected a layer after `cls:`, as in `cls: Parameter(1, 768)`"
        );
        assert_eq!(
            error("cls:"),
            "unexpected end of input, expected a layer after `cls:`, as in `cls: Parameter(1, 768)`"
        );
        assert_eq!(error("let a = b::C(1); a"), "expected `;`");
    }

    #[test]
    fn trailing_tokens_are_reported() {
        let result =
            "expected `}` after the result expression (only `let` statements end with `;`)";
        assert_eq!(error("x[0] y"), result);
        assert_eq!(error("x.f() y"), result);
        assert_eq!(error("cls: Parameter(1) 2"), result);
        assert_eq!(error("x @"), "unexpected end of input, expected one of: integer literal, floating point literal, boolean literal, string literal, `if`, parentheses, identifier");
        assert_eq!(error("let a = x[0] y; a"), "expected `;`");
        assert_eq!(
            error("let a = x.f()[0 a]; a"),
            "expected `,` or `]` after an index"
        );
    }

    #[test]
    fn unbalanced_brackets_never_reach_the_parser() {
        // The lexer (rustc's, or proc_macro2's here) rejects them first.
        for src in ["{ x[:, 0 }", "{ x.f( }", "{ x[ }", "{ x.f(1, }"] {
            assert!(TokenStream::from_str(src).is_err(), "{src}");
        }
    }

    #[test]
    fn suffixes_and_indices_count_against_the_nesting_limit() {
        let message =
            "this nests deeper than 64 levels: move the inner part into a `let` or a block";
        for deep in [
            format!("x{}", ".f()".repeat(10_000)),
            format!("x{}", "[0]".repeat(10_000)),
            format!("x{}", ".a".repeat(10_000)),
            format!("{}0{}", "x[".repeat(10_000), "]".repeat(10_000)),
            format!("x[{}0{}]", "y[:".repeat(10_000), "]".repeat(10_000)),
            format!("x{}{}", ".f(a".repeat(5_000), ")".repeat(5_000)),
            format!("a{}", " @ a".repeat(10_000)),
        ] {
            assert_eq!(error(&deep), message);
        }
        // Within the limit.
        show(&format!("x{}", ".f()".repeat(60)));
        show(&format!("x{}", "[0]".repeat(60)));
    }

    /// Samples of the new syntax; each is mutated token by token below.
    const SAMPLES: &[&str] = &[
        "let y = x . flatten ( 2 ) . transpose ( 1 , 2 ) ; y [ : , 0 ] @ w",
        "let cls = class_token : Parameter ( 1 , 1 , 768 ) ; cat ( cls , x , dim = 1 )",
        "let t = tokens : Parameter ( 6 , 192 ) -> proj : Linear ( 64 ) ; t",
        "( q , k , v ) -> attn : MultiheadAttention ( 8 , batch_first = true )",
        "x [ ... , : 64 ] + t [ None ] - x [ : , 1 : ] / x [ : , : , 2 : 5 ]",
        "x . reshape ( x . size ( -1 ) , 768 ) -> [ A , B ] -> [ C ; 2 ]",
        "x [ a : b , n : , : - 1 , - 1 ]",
    ];

    /// Tokens to insert: every token the new syntax gives meaning to.
    const INSERTS: &[&str] = &[
        ":", "::", ".", "..", "...", "@", ",", "None", "[", "]", "(", ")", "[ ]", "( )", "->", "-",
        "x", "0", "=",
    ];

    #[test]
    fn no_mutation_panics() {
        let mut inputs = 0;
        for sample in SAMPLES {
            let tokens: Vec<&str> = sample.split(' ').collect();
            assert!(parse(sample).is_ok(), "{sample}");
            for i in 0..=tokens.len() {
                let mut variants = Vec::new();
                // Truncation, deletion, duplication, insertion.
                variants.push(tokens[..i].join(" "));
                if i < tokens.len() {
                    let mut v = tokens.clone();
                    v.remove(i);
                    variants.push(v.join(" "));
                    let mut v = tokens.clone();
                    v.insert(i, tokens[i]);
                    variants.push(v.join(" "));
                }
                for insert in INSERTS {
                    let mut v = tokens.clone();
                    v.insert(i, insert);
                    variants.push(v.join(" "));
                    if i < tokens.len() {
                        v.remove(i + 1);
                        variants.push(v.join(" "));
                    }
                }
                for src in variants {
                    // Unbalanced variants do not lex; the rest parse or fail.
                    if TokenStream::from_str(&format!("{{ {src} }}")).is_ok() {
                        let _ = parse(&src);
                        inputs += 1;
                    }
                }
            }
        }
        assert!(inputs > 1000, "{inputs}");
    }
}
