//! The syntax tree of the `network!` language and its parser.
//!
//! ```text
//! $INPUT     := $ITEM*
//! $ITEM      := $BLOCK | $NETWORK
//! $BLOCK     := "block" $IDENT "(" $IDENT ("," $PARAM)* ","? ")" $BODY
//! $PARAM     := $IDENT ("=" $EXPR)?
//! $NETWORK   := $ATTR* $VIS "struct" $IDENT "(" $IDENT ":" "[" $INT ("," $INT)* "]" ")" $BODY
//! $BODY      := "{" $LET* $EXPR "}"
//! $LET       := "let" ($IDENT | "(" $IDENT ("," $IDENT)* ")") "=" $EXPR ";"
//! $EXPR      := $LOGIC ("->" $STAGE)*
//! $STAGE     := ($IDENT ":")? $SPEC
//! $SPEC      := $IDENT ("(" $ARGS ")")?          a layer or a block
//!             | "[" $ITEM_LIST "]"               a list: items named 0, 1, ...
//!             | "[" $SPEC ";" $EXPR "]"          a list of one spec repeated
//! $ITEM_LIST := ($LIST_ITEM ("," $LIST_ITEM)* ","?)?
//! $LIST_ITEM := $STAGE
//!             | "for" $IDENT "in" $EXPR ".." $EXPR "=>" $STAGE
//!             | "if" $EXPR "{" $STAGE? "}" ("else" "{" $STAGE? "}")?
//! $ARGS      := ($ARG ("," $ARG)* ","?)?
//! $ARG       := ($IDENT "=")? $EXPR
//! $LOGIC     := comparisons joined by "&&" and "||", over
//! $ARITH     := "+" "-" "*" "/" "%" and unary "-" "!", over
//! $PRIMARY   := $INT | $FLOAT | $BOOL | $STR | $IDENT ("." $IDENT)*
//!             | $IDENT "(" $ARGS ")"                  cat, chunk, min, max, make_divisible, int
//!             | "(" $EXPR ("," $EXPR)* ")"
//!             | "if" $EXPR "{" $EXPR "}" "else" "{" $EXPR "}"
//! ```
//!
//! Every node keeps the span of the tokens it came from.

use crate::value::Range;
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::{
    braced, bracketed, parenthesized, Attribute, Ident, LitBool, LitFloat, LitInt, LitStr, Token,
    Visibility,
};

/// Keywords of the language that are not Rust keywords.
#[allow(missing_docs)]
pub mod kw {
    syn::custom_keyword!(block);
}

/// The whole macro input.
#[derive(Debug)]
pub struct Input {
    /// Blocks and networks in source order.
    pub items: Vec<Item>,
}

/// One top-level item.
#[derive(Debug)]
pub enum Item {
    /// A reusable block.
    Block(BlockDef),
    /// A network type.
    Network(NetworkDef),
}

/// `block Name(x, p, q = 1) { ... }`
#[derive(Debug)]
pub struct BlockDef {
    /// Block name.
    pub name: Ident,
    /// The input tensor's name.
    pub input: Ident,
    /// Integer, boolean or float parameters, with optional defaults.
    pub params: Vec<Param>,
    /// Body.
    pub body: Body,
}

/// A block parameter.
#[derive(Debug)]
pub struct Param {
    /// Name.
    pub name: Ident,
    /// Default value.
    pub default: Option<Expr>,
}

/// `#[attrs] pub struct Name(x: [3, 224, 224]) { ... }`
#[derive(Debug)]
pub struct NetworkDef {
    /// Attributes other than `budget` (docs included), passed through.
    pub attrs: Vec<Attribute>,
    /// `#[budget(...)]` attributes.
    pub budgets: Vec<Attribute>,
    /// Visibility.
    pub vis: Visibility,
    /// Type name.
    pub name: Ident,
    /// Name of the input tensor.
    pub input: Ident,
    /// Input shape per sample, with each dimension's literal.
    pub shape: Vec<LitInt>,
    /// Span of the shape brackets.
    pub shape_span: Span,
    /// Body.
    pub body: Body,
}

/// `let` statements and a final expression.
#[derive(Debug)]
pub struct Body {
    /// Bindings in order.
    pub lets: Vec<Let>,
    /// The result.
    pub result: Expr,
}

/// `let a = ...;` or `let (a, b) = ...;`
#[derive(Debug)]
pub struct Let {
    /// Bound names (more than one for a tuple pattern).
    pub names: Vec<Ident>,
    /// Whether the pattern was a tuple.
    pub tuple: bool,
    /// Value.
    pub value: Expr,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (integer division floors)
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-`
    Neg,
    /// `!`
    Not,
}

/// An expression; `span` covers its tokens.
#[derive(Debug)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Range,
}

/// Expression forms.
#[derive(Debug)]
pub enum ExprKind {
    /// Integer literal.
    Int(LitInt),
    /// Float literal.
    Float(LitFloat),
    /// `true` / `false`.
    Bool(bool),
    /// String literal.
    Str(LitStr),
    /// A variable.
    Var(Ident),
    /// `x.channels`
    Field(Box<Expr>, Ident),
    /// `f(args)`
    Call(Ident, Vec<Arg>),
    /// `(a, b)`
    Tuple(Vec<Expr>),
    /// `a op b`
    Binary(Box<Expr>, BinOp, Box<Expr>),
    /// `op a`
    Unary(UnOp, Box<Expr>),
    /// `if c { a } else { b }`
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `x -> stage -> stage`
    Chain(Box<Expr>, Vec<Stage>),
}

/// A call argument.
#[derive(Debug)]
pub struct Arg {
    /// Keyword, for `name = value`.
    pub name: Option<Ident>,
    /// Value.
    pub value: Expr,
}

/// One step of a chain: an optional name and what to apply.
#[derive(Debug)]
pub struct Stage {
    /// `name:` before the spec.
    pub name: Option<Ident>,
    /// What to apply.
    pub spec: Spec,
}

/// What a stage applies.
#[derive(Debug)]
pub enum Spec {
    /// A layer or block: `Conv2d(64, 3)`, `ReLU`, `BasicBlock(64)`.
    Call {
        /// Layer or block name.
        name: Ident,
        /// Arguments (empty without parentheses).
        args: Vec<Arg>,
        /// Span of the whole spec.
        span: Range,
    },
    /// `[a, b, for i in 0..n => c, if cond { d }]`
    List {
        /// Items.
        items: Vec<ListItem>,
        /// Span of the brackets.
        span: Range,
    },
    /// `[spec; n]`
    Repeat {
        /// The repeated stage.
        item: Box<Stage>,
        /// Count.
        count: Expr,
        /// Span of the brackets.
        span: Range,
    },
}

impl Spec {
    /// Span of the spec's tokens.
    pub fn span(&self) -> Range {
        match self {
            Spec::Call { span, .. } | Spec::List { span, .. } | Spec::Repeat { span, .. } => *span,
        }
    }
}

/// An item of a list.
#[derive(Debug)]
pub enum ListItem {
    /// One stage.
    Stage(Stage),
    /// `for i in a..b => stage`
    For {
        /// Index variable.
        var: Ident,
        /// Start.
        start: Expr,
        /// End (exclusive).
        end: Expr,
        /// Stage evaluated for each index.
        body: Box<Stage>,
    },
    /// `if cond { stage } else { stage }`; either side may be empty.
    If {
        /// Condition.
        cond: Expr,
        /// Taken when true.
        then: Option<Box<Stage>>,
        /// Taken when false.
        otherwise: Option<Box<Stage>>,
    },
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

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut items = Vec::new();
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
                items.push(Item::Block(input.parse()?));
            } else if lookahead.peek(Token![pub]) || lookahead.peek(Token![struct]) {
                let mut net: NetworkDef = input.parse()?;
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
        Ok(Input { items })
    }
}

impl Parse for BlockDef {
    fn parse(input: ParseStream) -> syn::Result<Self> {
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
        let body = input.parse()?;
        Ok(BlockDef {
            name,
            input: first,
            params,
            body,
        })
    }
}

impl Parse for NetworkDef {
    fn parse(input: ParseStream) -> syn::Result<Self> {
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
        let body = input.parse()?;
        Ok(NetworkDef {
            attrs: Vec::new(),
            budgets: Vec::new(),
            vis,
            name,
            input: tensor,
            shape: shape.into_iter().collect(),
            shape_span: bracket.span.join(),
            body,
        })
    }
}

impl Parse for Body {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        braced!(content in input);
        let mut lets = Vec::new();
        while content.peek(Token![let]) {
            content.parse::<Token![let]>()?;
            let (names, tuple) = if content.peek(syn::token::Paren) {
                let inner;
                parenthesized!(inner in content);
                let names = inner.parse_terminated(Ident::parse, Token![,])?;
                (names.into_iter().collect(), true)
            } else {
                (vec![content.parse::<Ident>()?], false)
            };
            content.parse::<Token![=]>()?;
            let value = content.parse()?;
            content.parse::<Token![;]>()?;
            lets.push(Let {
                names,
                tuple,
                value,
            });
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

/// Precedence climbing over the binary operators (all left-associative;
/// comparisons do not chain).
fn parse_binary(input: ParseStream, min_prec: u8) -> syn::Result<Expr> {
    let mut lhs = parse_unary(input)?;
    while let Some((op, prec)) = peek_binop(input) {
        if prec < min_prec {
            break;
        }
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

fn parse_unary(input: ParseStream) -> syn::Result<Expr> {
    let op = if input.peek(Token![-]) {
        let t: Token![-] = input.parse()?;
        Some((UnOp::Neg, Range::from(t.span)))
    } else if input.peek(Token![!]) {
        let t: Token![!] = input.parse()?;
        Some((UnOp::Not, Range::from(t.span)))
    } else {
        None
    };
    match op {
        Some((op, span)) => {
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

fn parse_postfix(input: ParseStream) -> syn::Result<Expr> {
    let mut expr = parse_primary(input)?;
    while input.peek(Token![.]) && !input.peek(Token![..]) {
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
        let items = content.parse_terminated(Expr::parse, Token![,])?;
        let span = delim(paren.span);
        let trailing = items.trailing_punct();
        let mut items: Vec<Expr> = items.into_iter().collect();
        match (items.len(), trailing) {
            (1, false) => {
                let mut inner = items.remove(0);
                inner.span = span;
                Ok(inner)
            }
            (0, _) => Err(span.error("expected an expression inside `()`")),
            _ => Ok(Expr {
                kind: ExprKind::Tuple(items),
                span,
            }),
        }
    } else if lookahead.peek(Ident) {
        let name: Ident = input.parse()?;
        if input.peek(syn::token::Paren) {
            let content;
            let paren = parenthesized!(content in input);
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

impl Parse for Spec {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let lookahead = input.lookahead1();
        if lookahead.peek(syn::token::Bracket) {
            let content;
            let bracket = bracketed!(content in input);
            let span = delim(bracket.span);
            // `[stage; n]`
            let fork = content.fork();
            if !fork.peek(Token![for])
                && !fork.peek(Token![if])
                && fork.parse::<Stage>().is_ok()
                && fork.peek(Token![;])
            {
                let item: Stage = content.parse()?;
                content.parse::<Token![;]>()?;
                let count: Expr = content.parse()?;
                if !content.is_empty() {
                    return Err(content.error("expected `]` after the repeat count"));
                }
                return Ok(Spec::Repeat {
                    item: Box::new(item),
                    count,
                    span,
                });
            }
            let mut items = Vec::new();
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

/// Tokens of an attribute, for spans.
pub fn attr_tokens(attr: &Attribute) -> TokenStream {
    attr.to_token_stream()
}
