//! Budgets: `#[budget(params <= 4M, macs <= 320M, memory_access <= 64MiB)]`.
//!
//! ```text
//! $BUDGET := "budget" "(" $CLAUSE ("," $CLAUSE)* ","? ")"
//! $CLAUSE := $METRIC ("<=" | "<") $LIMIT
//! $METRIC := params | macs | flops | memory_access | activations
//!          | weight_bytes | peak_activation | buffers
//!          | latency "(" $DEVICE ")"
//! $DEVICE := a preset id as an identifier or a string: raspberry_pi_5, "h100-sxm", ...
//! $LIMIT  := an integer or float literal with an optional unit suffix:
//!            counts K M G T (decimal); bytes B KB MB GB TB (decimal) or KiB MiB GiB TiB (binary);
//!            latency s ms us ns
//! ```
//!
//! `latency(<device>)` is the roofline lower bound of one sample on a preset
//! device (`netspec_model::presets`): the sum over layers of
//! `max(FLOPs / peak f32 FLOP/s, bytes / bandwidth)`.

use crate::value::{did_you_mean, Errors};
use netspec_model::format::{bytes, si, thousands};
use netspec_model::{presets, Totals};
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
    /// The device of a `latency(<device>)` clause, with its span.
    pub device: Option<(String, Span)>,
    /// The limit literal.
    pub limit: Lit,
    /// All tokens, for the span.
    pub tokens: TokenStream,
}

impl Parse for Clause {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let metric: Ident = input.parse()?;
        let mut device = None;
        let mut device_tokens = TokenStream::new();
        if input.peek(syn::token::Paren) {
            let content;
            let paren = syn::parenthesized!(content in input);
            let lookahead = content.lookahead1();
            let (name, span) = if lookahead.peek(syn::LitStr) {
                let s: syn::LitStr = content.parse()?;
                (s.value(), s.span())
            } else if lookahead.peek(Ident) {
                let i: Ident = content.parse()?;
                (i.to_string(), i.span())
            } else {
                return Err(lookahead.error());
            };
            device = Some((name, span));
            // Any token with the closing parenthesis' span: errors end there.
            let mut close = proc_macro2::Punct::new('.', proc_macro2::Spacing::Alone);
            close.set_span(paren.span.close());
            device_tokens.extend([proc_macro2::TokenTree::Punct(close)]);
        }
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
        tokens.extend(device_tokens);
        tokens.extend(op);
        tokens.extend(limit.to_token_stream());
        Ok(Clause {
            metric,
            strict,
            device,
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

/// What the budgets are checked against: the totals and each layer's
/// `(flops, memory access bytes)` in execution order.
#[derive(Clone, Copy)]
pub struct Measured<'a> {
    /// Whole-network totals.
    pub totals: &'a Totals,
    /// Per-layer FLOPs and bytes, for `latency` clauses.
    pub layers: &'a [(u64, u64)],
}

/// Checks every budget attribute of a network; with `measured` `None` (the
/// network did not compile) only the clauses themselves are checked.
pub fn check(attrs: &[Attribute], measured: Option<Measured<'_>>, errors: &mut Errors) {
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
            check_clause(&clause, measured, errors);
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

/// The limit's digits, unit suffix and span, or an error.
fn limit_parts(clause: &Clause, errors: &mut Errors) -> Option<(Option<f64>, String, Span)> {
    match &clause.limit {
        Lit::Int(i) => Some((
            i.base10_digits().parse::<f64>().ok(),
            i.suffix().to_string(),
            i.span(),
        )),
        Lit::Float(f) => Some((
            f.base10_digits().parse::<f64>().ok(),
            f.suffix().to_string(),
            f.span(),
        )),
        other => {
            errors.push(
                other.span(),
                "a budget limit is a number with an optional unit, as in `4M`, `64MiB` or `5ms`",
            );
            None
        }
    }
}

/// A duration as `26.75 ms`.
fn seconds(t: f64) -> String {
    let (value, unit) = if t >= 1.0 {
        (t, "s")
    } else if t >= 1e-3 {
        (t * 1e3, "ms")
    } else if t >= 1e-6 {
        (t * 1e6, "us")
    } else {
        (t * 1e9, "ns")
    };
    let digits = if value >= 100.0 {
        1
    } else if value >= 10.0 {
        2
    } else {
        3
    };
    format!("{value:.digits$} {unit}")
}

/// `latency(<device>) <= limit`: the roofline lower bound on a preset.
fn check_latency(clause: &Clause, measured: Option<Measured<'_>>, errors: &mut Errors) {
    let ids: Vec<&str> = presets::PRESETS.iter().map(|p| p.id).collect();
    let Some((device, device_span)) = &clause.device else {
        errors.push(
            clause.metric.span(),
            format!(
                "`latency` needs a device, as in `latency(raspberry_pi_5) <= 5ms`; devices: {}",
                ids.join(", ")
            ),
        );
        return;
    };
    let key = device.replace('_', "-");
    let Some(preset) = presets::preset(&key) else {
        let hint = did_you_mean(&key, ids.iter().copied());
        errors.push(
            *device_span,
            format!(
                "unknown device `{device}`{hint}; expected one of: {}",
                ids.join(", ")
            ),
        );
        return;
    };
    let Some((number, suffix, span)) = limit_parts(clause, errors) else {
        return;
    };
    let scale = match suffix.as_str() {
        "s" => 1.0,
        "ms" => 1e-3,
        "us" => 1e-6,
        "ns" => 1e-9,
        _ => {
            errors.push(
                span,
                if suffix.is_empty() {
                    "`latency` takes a time with its unit (s, ms, us or ns), as in `5ms`"
                        .to_string()
                } else {
                    format!("`latency` takes a time: s, ms, us or ns, found `{suffix}`")
                },
            );
            return;
        }
    };
    let Some(number) = number.filter(|n| n.is_finite() && *n >= 0.0) else {
        errors.push(span, "a budget limit must be a non-negative number");
        return;
    };
    let limit = number * scale;
    let Some(measured) = measured else { return };
    let t = preset.roofline_seconds(measured.layers.iter().copied());
    let over = if clause.strict { t >= limit } else { t > limit };
    if !over {
        return;
    }
    let relation = if clause.strict {
        "must stay below"
    } else {
        "is"
    };
    let percent = if limit > 0.0 {
        format!(" ({:.1} % over)", (t - limit) / limit * 100.0)
    } else {
        String::new()
    };
    let message = format!(
        "budget exceeded: the roofline latency on {} is {} (f32 peak {}FLOP/s, {}B/s, batch 1), the budget {relation} {}{percent}",
        preset.name,
        seconds(t),
        si(preset.f32_flops as u64),
        si(preset.bandwidth as u64),
        seconds(limit),
    );
    errors.push_error(syn::Error::new_spanned(&clause.tokens, message));
}

fn check_clause(clause: &Clause, measured: Option<Measured<'_>>, errors: &mut Errors) {
    let name = clause.metric.to_string();
    if name == "latency" {
        check_latency(clause, measured, errors);
        return;
    }
    if let Some((_, span)) = &clause.device {
        errors.push(
            *span,
            format!("only `latency` takes a device, `{name}` does not"),
        );
        return;
    }
    let totals = measured.map(|m| m.totals);
    let Some(metric) = METRICS.iter().find(|m| m.name == name) else {
        let names = METRICS.iter().map(|m| m.name).chain(["latency"]);
        let hint = did_you_mean(&name, names);
        let all: Vec<&str> = METRICS
            .iter()
            .map(|m| m.name)
            .chain(["latency(<device>)"])
            .collect();
        errors.push(
            clause.metric.span(),
            format!(
                "unknown budget metric `{name}`{hint}; expected one of: {}",
                all.join(", ")
            ),
        );
        return;
    };
    let Some((number, suffix, span)) = limit_parts(clause, errors) else {
        return;
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
