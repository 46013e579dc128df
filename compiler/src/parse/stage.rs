//! `->` stages: a layer or block call, a list with `for` and `if` items, or
//! a repetition, each read once.

use super::expr::{parse_binary, parse_paren_args};
use super::{delim, join, Level};
use crate::ast::{Expr, ListItem, Spec, Stage};
use syn::parse::{Parse, ParseStream};
use syn::{braced, bracketed, Ident, LitStr, Token};

/// ```text
/// $STAGE := (($IDENT | $STRING) ":")? $SPEC      a string name is formatted: "encoder_layer_{i}"
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
        let template = if name.is_none() && input.peek(LitStr) && input.peek2(Token![:]) {
            let t: LitStr = input.parse()?;
            input.parse::<Token![:]>()?;
            Some(t)
        } else {
            None
        };
        let spec = input.parse()?;
        Ok(Stage {
            name,
            template,
            spec,
        })
    }
}

/// ```text
/// $SPEC      := $IDENT ("(" $ARGS ")")?          a layer or a block; a module variable, bare: x -> branch
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
                let (args, parens) = parse_paren_args(input)?;
                let span = join(name.span(), parens);
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
