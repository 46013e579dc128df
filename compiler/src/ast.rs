//! The syntax tree of the `network!` language. The grammar, rule by rule,
//! sits above the code that parses it, in [`crate::parse`].
//!
//! Every node keeps the span of the tokens it came from.

use crate::value::Range;
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{Attribute, Ident, LitFloat, LitInt, LitStr, Visibility};

/// The whole macro input.
#[derive(Debug)]
pub struct Input {
    /// Blocks and networks in source order.
    pub items: Vec<Item>,
    /// Syntax errors inside bodies. The block or network with such an error
    /// is still an item, with no body, so that its struct and consts exist.
    pub errors: Vec<syn::Error>,
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
    /// Body; `None` after a syntax error in it (reported in [`Input::errors`]).
    pub body: Option<Body>,
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
    /// Body; `None` after a syntax error in it (reported in [`Input::errors`]).
    pub body: Option<Body>,
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
    /// `@` (matrix product; the precedence of `*`, as in Python)
    MatMul,
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
    /// `x.reshape(197, 768)`: a method call (the built-in `reshape(x, 197, 768)`).
    Method(Box<Expr>, Ident, Vec<Arg>),
    /// `x[:, 0]`: indexing, one item per dimension written.
    Index(Box<Expr>, Vec<IndexItem>),
    /// `f(args)`
    Call(Ident, Vec<Arg>),
    /// `class_token: Parameter(1, 1, 768)`: a named source, a layer that
    /// takes no input.
    Source {
        /// The name before `:` (a state-dict path segment).
        name: Ident,
        /// The layer, as in `Parameter`.
        kind: Ident,
        /// Arguments (empty without parentheses).
        args: Vec<Arg>,
        /// Span of `kind(args)`, as [`Spec::Call`]'s (the whole source is
        /// the [`Expr`]'s span).
        span: Range,
    },
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

/// One item of an index `x[...]`.
#[derive(Debug)]
pub enum IndexItem {
    /// `:`, the whole dimension.
    Full(Range),
    /// `start:`, `:end` or `start:end` (at least one bound; `:` alone is
    /// [`IndexItem::Full`]). Bounds may be negative, counting from the end.
    Slice {
        /// First index kept.
        start: Option<Expr>,
        /// One past the last index kept.
        end: Option<Expr>,
        /// Span of the item.
        span: Range,
    },
    /// `0`, `-1`: one position, dropping the dimension.
    At(Expr),
    /// `None`: a new dimension of size 1.
    NewAxis(Range),
    /// `...`: as many `:` as the dimensions not indexed.
    Ellipsis(Range),
}

impl IndexItem {
    /// Span of the item's tokens.
    pub fn span(&self) -> Range {
        match self {
            IndexItem::Full(span)
            | IndexItem::NewAxis(span)
            | IndexItem::Ellipsis(span)
            | IndexItem::Slice { span, .. } => *span,
            IndexItem::At(e) => e.span,
        }
    }
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
    /// `"encoder_layer_{i}":` before the spec: a name formatted from
    /// integer variables (for names a loop makes, as PyTorch's
    /// `OrderedDict` keys).
    pub template: Option<LitStr>,
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

/// Tokens of an attribute, for spans.
pub fn attr_tokens(attr: &Attribute) -> TokenStream {
    attr.to_token_stream()
}
