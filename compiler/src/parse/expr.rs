//! Expressions: operators by precedence, unary operators, field accesses,
//! literals, `if`, tuples and function calls.

use super::{delim, join, Level};
use crate::ast::{Arg, BinOp, Expr, ExprKind, Stage, UnOp};
use syn::parse::{Parse, ParseStream};
use syn::{braced, parenthesized, Ident, LitBool, LitFloat, LitInt, LitStr, Token};

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
pub(crate) fn parse_binary(input: ParseStream, min_prec: u8) -> syn::Result<Expr> {
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
pub(crate) fn parse_args(input: ParseStream) -> syn::Result<Vec<Arg>> {
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
