//! Budgets: `#[budget(params <= 4M, macs <= 320M, memory_access <= 64MiB)]`.
//!
//! ```text
//! $BUDGET := "budget" "(" $CLAUSE ("," $CLAUSE)* ","? ")"
//! $CLAUSE := $METRIC ("<=" | "<") $LIMIT
//! $METRIC := params | macs | flops | memory_access | activations
//!          | weight_bytes | peak_activation | buffers
//! $LIMIT  := an integer or float literal with an optional unit suffix:
//!            counts K M G T (decimal); bytes B KB MB GB TB (decimal) or KiB MiB GiB TiB (binary)
//! ```

use crate::value::{did_you_mean, Errors};
use netspec_model::format::{bytes, si, thousands};
use netspec_model::Totals;
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, Lit, Token};

/// One budget metric: its name in the attribute, its label in messages,
/// whether it is a byte count, and how to read it from the totals.
pub struct Metric {
    /// Name in the attribute.
    pub name: &'static str,
    /// Label in messages (`MACs`).
    pub label: &'static str,
    /// Measured in bytes.
    pub is_bytes: bool,
    /// Reads the value.
    pub get: fn(&Totals) -> u64,
}

/// Every metric a budget can bound.
pub const METRICS: &[Metric] = &[
    Metric {
        name: "params",
        label: "params",
        is_bytes: false,
        get: |t| t.params,
    },
    Metric {
        name: "macs",
        label: "MACs",
        is_bytes: false,
        get: |t| t.macs,
    },
    Metric {
        name: "flops",
        label: "FLOPs",
        is_bytes: false,
        get: |t| t.flops,
    },
    Metric {
        name: "activations",
        label: "activations",
        is_bytes: false,
        get: |t| t.activations,
    },
    Metric {
        name: "buffers",
        label: "buffers",
        is_bytes: false,
        get: |t| t.buffers,
    },
    Metric {
        name: "memory_access",
        label: "memory access bytes",
        is_bytes: true,
        get: |t| t.memory_access_bytes,
    },
    Metric {
        name: "weight_bytes",
        label: "weight bytes",
        is_bytes: true,
        get: |t| t.weight_bytes,
    },
    Metric {
        name: "peak_activation",
        label: "peak activation bytes",
        is_bytes: true,
        get: |t| t.peak_activation_bytes,
    },
];

/// A parsed clause.
pub struct Clause {
    /// Metric name.
    pub metric: Ident,
    /// `<` instead of `<=`.
    pub strict: bool,
    /// The limit literal.
    pub limit: Lit,
    /// All tokens, for the span.
    pub tokens: TokenStream,
}

impl Parse for Clause {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let metric: Ident = input.parse()?;
        let lookahead = input.lookahead1();
        let (strict, op) = if lookahead.peek(Token![<=]) {
            (false, input.parse::<Token![<=]>()?.into_token_stream())
        } else if lookahead.peek(Token![<]) {
            (true, input.parse::<Token![<]>()?.into_token_stream())
        } else {
            return Err(lookahead.error());
        };
        let limit: Lit = input.parse()?;
        let mut tokens = metric.to_token_stream();
        tokens.extend(op);
        tokens.extend(limit.to_token_stream());
        Ok(Clause {
            metric,
            strict,
            limit,
            tokens,
        })
    }
}

const COUNT_UNITS: &[(&str, f64)] = &[("", 1.0), ("K", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12)];
const BYTE_UNITS: &[(&str, f64)] = &[
    ("", 1.0),
    ("B", 1.0),
    ("KB", 1e3),
    ("MB", 1e6),
    ("GB", 1e9),
    ("TB", 1e12),
    ("KiB", 1024.0),
    ("MiB", 1_048_576.0),
    ("GiB", 1_073_741_824.0),
    ("TiB", 1_099_511_627_776.0),
];

/// The scale and canonical name of a unit suffix.
fn unit(suffix: &str, is_bytes: bool) -> Result<(f64, &'static str), String> {
    let table = if is_bytes { BYTE_UNITS } else { COUNT_UNITS };
    match table.iter().find(|(s, _)| *s == suffix) {
        Some((name, scale)) => Ok((*scale, name)),
        None => {
            let expected = if is_bytes {
                "B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"
            } else {
                "K, M, G or T"
            };
            Err(format!(
                "unknown unit `{suffix}`: this metric takes {expected}"
            ))
        }
    }
}

/// Checks every budget attribute of a network against its totals.
pub fn check(attrs: &[Attribute], totals: Option<&Totals>, errors: &mut Errors) {
    for attr in attrs {
        let clauses = match attr.parse_args_with(Punctuated::<Clause, Token![,]>::parse_terminated)
        {
            Ok(c) => c,
            Err(e) => {
                errors.push_error(e);
                continue;
            }
        };
        if clauses.is_empty() {
            errors.push(
                attr_span(attr),
                "a budget needs at least one clause, as in `budget(params <= 4M)`",
            );
        }
        for clause in clauses {
            check_clause(&clause, totals, errors);
        }
    }
}

fn attr_span(attr: &Attribute) -> Span {
    let tokens = attr.to_token_stream();
    let mut iter = tokens.into_iter();
    let first = iter
        .next()
        .map(|t| t.span())
        .unwrap_or_else(Span::call_site);
    let last = iter.last().map(|t| t.span()).unwrap_or(first);
    first.join(last).unwrap_or(first)
}

fn check_clause(clause: &Clause, totals: Option<&Totals>, errors: &mut Errors) {
    let name = clause.metric.to_string();
    let Some(metric) = METRICS.iter().find(|m| m.name == name) else {
        let hint = did_you_mean(&name, METRICS.iter().map(|m| m.name));
        let all: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
        errors.push(
            clause.metric.span(),
            format!(
                "unknown budget metric `{name}`{hint}; expected one of: {}",
                all.join(", ")
            ),
        );
        return;
    };
    let (number, suffix, span) = match &clause.limit {
        Lit::Int(i) => (
            i.base10_digits().parse::<f64>().ok(),
            i.suffix().to_string(),
            i.span(),
        ),
        Lit::Float(f) => (
            f.base10_digits().parse::<f64>().ok(),
            f.suffix().to_string(),
            f.span(),
        ),
        other => {
            errors.push(
                other.span(),
                "a budget limit is a number with an optional unit, as in `4M` or `64MiB`",
            );
            return;
        }
    };
    let (scale, unit_name) = match unit(&suffix, metric.is_bytes) {
        Ok(u) => u,
        Err(msg) => {
            errors.push(span, format!("`{name}`: {msg}"));
            return;
        }
    };
    let Some(number) = number.filter(|n| n.is_finite() && *n >= 0.0) else {
        errors.push(span, "a budget limit must be a non-negative number");
        return;
    };
    let limit = number * scale;
    if limit > u64::MAX as f64 {
        errors.push(span, "this budget limit does not fit in u64");
        return;
    }
    let limit = limit.floor() as u64;
    let Some(totals) = totals else { return };
    let value = (metric.get)(totals);
    let over = if clause.strict {
        value >= limit
    } else {
        value > limit
    };
    if !over {
        return;
    }
    let shown_value = if metric.is_bytes {
        format!("{} B ({})", thousands(value), bytes(value))
    } else {
        format!("{} ({})", thousands(value), si(value))
    };
    let shown_limit = if unit_name.is_empty() || unit_name == "B" {
        if metric.is_bytes {
            format!("{} B", thousands(limit))
        } else {
            thousands(limit)
        }
    } else {
        format!("{} {unit_name}", clause.limit_digits())
    };
    let percent = if limit == 0 {
        String::new()
    } else {
        format!(
            " ({:.1} % over)",
            (value as f64 - limit as f64) / limit as f64 * 100.0
        )
    };
    let relation = if clause.strict {
        "must stay below"
    } else {
        "is"
    };
    let message = format!(
        "budget exceeded: {} are {shown_value}, the budget {relation} {shown_limit}{percent}",
        metric.label
    );
    errors.push_error(syn::Error::new_spanned(&clause.tokens, message));
}

impl Clause {
    fn limit_digits(&self) -> String {
        match &self.limit {
            Lit::Int(i) => i.base10_digits().to_string(),
            Lit::Float(f) => f.base10_digits().to_string(),
            _ => String::new(),
        }
    }
}
