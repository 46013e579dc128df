//! Reading `#[budget(...)]` into the [`Budget`] IR: the syntax first
//! ([`RawClause`]), then each clause's meaning (metric, device, unit, limit),
//! with a spanned error for every clause that does not make sense.

use super::{Budget, Clause, Limit, Target};
use crate::value::{did_you_mean, Errors};
use netspec_model::format::{seconds, Text};
use netspec_model::metric::{push_limit, Unit, WITH_ARGUMENTS};
use netspec_model::{presets, Metric, Optimizer, Precision};
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, Lit, LitInt, LitStr, Token};

/// An argument's value: `raspberry_pi_5`, `"h100-sxm"`, `64`.
#[derive(Clone, Debug)]
pub(super) enum ArgValue {
    /// An identifier.
    Ident(Ident),
    /// A string.
    Str(LitStr),
    /// An integer.
    Int(LitInt),
}

impl ArgValue {
    fn span(&self) -> Span {
        match self {
            ArgValue::Ident(i) => i.span(),
            ArgValue::Str(s) => s.span(),
            ArgValue::Int(i) => i.span(),
        }
    }

    /// The value as text: the identifier, the string's contents or the digits.
    fn text(&self) -> String {
        match self {
            ArgValue::Ident(i) => i.to_string(),
            ArgValue::Str(s) => s.value(),
            ArgValue::Int(i) => i.base10_digits().to_string(),
        }
    }
}

/// `$ARG := ($IDENT "=")? ($IDENT | $STRING | $INTEGER)`
#[derive(Clone, Debug)]
pub(super) struct Arg {
    /// The name of a keyword argument.
    name: Option<Ident>,
    /// The value.
    value: ArgValue,
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name = if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let name: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            Some(name)
        } else {
            None
        };
        let lookahead = input.lookahead1();
        let value = if lookahead.peek(LitStr) {
            ArgValue::Str(input.parse()?)
        } else if lookahead.peek(Ident) {
            ArgValue::Ident(input.parse()?)
        } else if lookahead.peek(LitInt) {
            ArgValue::Int(input.parse()?)
        } else {
            return Err(lookahead.error());
        };
        Ok(Arg { name, value })
    }
}

/// One clause as written, before its meaning is checked.
///
/// ```text
/// $CLAUSE := $IDENT ("(" $ARG ("," $ARG)* ","? ")")? ("<=" | "<") $LITERAL
/// ```
#[derive(Clone, Debug)]
pub(super) struct RawClause {
    /// The metric's name.
    metric: Ident,
    /// The arguments in parentheses, if any.
    args: Option<Vec<Arg>>,
    /// `<` rather than `<=`.
    strict: bool,
    /// The limit literal.
    limit: Lit,
    /// All the clause's tokens (the arguments stand in as their closing
    /// parenthesis), for errors spanning the clause.
    tokens: TokenStream,
}

impl Parse for RawClause {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let metric: Ident = input.parse()?;
        let mut args = None;
        let mut args_tokens = TokenStream::new();
        if input.peek(syn::token::Paren) {
            let content;
            let paren = syn::parenthesized!(content in input);
            let list = Punctuated::<Arg, Token![,]>::parse_terminated(&content)?;
            args = Some(list.into_iter().collect());
            // Any token with the closing parenthesis' span: errors end there.
            let mut close = proc_macro2::Punct::new('.', proc_macro2::Spacing::Alone);
            close.set_span(paren.span.close());
            args_tokens.extend([proc_macro2::TokenTree::Punct(close)]);
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
        tokens.extend(args_tokens);
        tokens.extend(op);
        tokens.extend(limit.to_token_stream());
        Ok(RawClause {
            metric,
            args,
            strict,
            limit,
            tokens,
        })
    }
}

/// Reads every budget attribute of a network into the IR. Malformed clauses
/// are reported to `errors` and left out.
pub fn parse(attrs: &[Attribute], errors: &mut Errors) -> Budget {
    let mut budget = Budget::default();
    for attr in attrs {
        let raw = match attr.parse_args_with(Punctuated::<RawClause, Token![,]>::parse_terminated) {
            Ok(c) => c,
            Err(e) => {
                errors.push_error(e);
                continue;
            }
        };
        if raw.is_empty() {
            errors.push(
                attr_span(attr),
                "a budget needs at least one clause, as in `budget(params <= 4M)`",
            );
        }
        for clause in &raw {
            if let Some(c) = lower(clause, errors) {
                budget.clauses.push(c);
            }
        }
    }
    budget
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

/// A clause's meaning, or `None` after reporting why it has none.
fn lower(raw: &RawClause, errors: &mut Errors) -> Option<Clause> {
    let name = raw.metric.to_string();
    let (target, limit) = match name.as_str() {
        "latency" => lower_latency(raw, errors)?,
        "train_memory" => lower_train_memory(raw, errors)?,
        _ => lower_metric(raw, &name, errors)?,
    };
    Some(Clause {
        target,
        strict: raw.strict,
        limit,
        tokens: raw.tokens.clone(),
    })
}

/// The limit's number, unit suffix and span, or an error.
fn limit_parts(limit: &Lit, errors: &mut Errors) -> Option<(Option<f64>, String, Span)> {
    match limit {
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

fn digits(limit: &Lit) -> String {
    match limit {
        Lit::Int(i) => i.base10_digits().to_string(),
        Lit::Float(f) => f.base10_digits().to_string(),
        _ => String::new(),
    }
}

/// `latency(<device>) <= 5ms`.
fn lower_latency(raw: &RawClause, errors: &mut Errors) -> Option<(Target, Limit)> {
    let ids: Vec<&str> = presets::PRESETS.iter().map(|p| p.id).collect();
    let device = match raw.args.as_deref() {
        Some([Arg { name: None, value }]) if !matches!(value, ArgValue::Int(_)) => value,
        Some([arg, ..]) => {
            errors.push(
                arg.value.span(),
                format!("`latency` takes one device, as in `latency(raspberry_pi_5) <= 5ms`; devices: {}", ids.join(", ")),
            );
            return None;
        }
        _ => {
            errors.push(
                raw.metric.span(),
                format!(
                    "`latency` needs a device, as in `latency(raspberry_pi_5) <= 5ms`; devices: {}",
                    ids.join(", ")
                ),
            );
            return None;
        }
    };
    let written = device.text();
    let key = written.replace('_', "-");
    let Some(preset) = presets::preset(&key) else {
        let hint = did_you_mean(&key, ids.iter().copied());
        errors.push(
            device.span(),
            format!(
                "unknown device `{written}`{hint}; expected one of: {}",
                ids.join(", ")
            ),
        );
        return None;
    };
    let (number, suffix, span) = limit_parts(&raw.limit, errors)?;
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
            return None;
        }
    };
    let Some(number) = number.filter(|n| n.is_finite() && *n >= 0.0) else {
        errors.push(span, "a budget limit must be a non-negative number");
        return None;
    };
    let value = number * scale;
    let limit = Limit {
        value,
        text: seconds(value),
        span,
    };
    Some((Target::Latency(preset), limit))
}

const TRAIN_MEMORY_EXAMPLE: &str = "as in `train_memory(batch = 64, optimizer = adam) <= 16GiB`";

/// `train_memory(batch = 64, optimizer = adam, precision = mixed) <= 16GiB`.
fn lower_train_memory(raw: &RawClause, errors: &mut Errors) -> Option<(Target, Limit)> {
    let Some(args) = &raw.args else {
        errors.push(
            raw.metric.span(),
            format!("`train_memory` needs a batch and an optimizer, {TRAIN_MEMORY_EXAMPLE}"),
        );
        return None;
    };
    let (mut batch, mut optimizer, mut precision) = (None, None, Precision::F32);
    let mut ok = true;
    for arg in args {
        let Some(name) = &arg.name else {
            errors.push(
                arg.value.span(),
                format!("`train_memory` takes named arguments, {TRAIN_MEMORY_EXAMPLE}"),
            );
            ok = false;
            continue;
        };
        let text = arg.value.text();
        match (name.to_string().as_str(), &arg.value) {
            ("batch", ArgValue::Int(i)) => match i.base10_parse::<u64>() {
                Ok(n) if n > 0 => batch = Some(n),
                _ => {
                    errors.push(
                        i.span(),
                        format!("the batch must be a positive integer, found {text}"),
                    );
                    ok = false;
                }
            },
            ("batch", v) => {
                errors.push(
                    v.span(),
                    format!("the batch must be a positive integer, found {text}"),
                );
                ok = false;
            }
            ("optimizer", v) => match Optimizer::from_name(&text) {
                Some(o) => optimizer = Some(o),
                None => {
                    let names = Optimizer::ALL.map(Optimizer::name);
                    let hint = did_you_mean(&text, names);
                    errors.push(
                        v.span(),
                        format!(
                            "unknown optimizer `{text}`{hint}; expected one of: {}",
                            names.join(", ")
                        ),
                    );
                    ok = false;
                }
            },
            ("precision", v) => match Precision::from_name(&text) {
                Some(p) => precision = p,
                None => {
                    errors.push(
                        v.span(),
                        format!("unknown precision `{text}`; expected f32 or mixed"),
                    );
                    ok = false;
                }
            },
            (other, _) => {
                let hint = did_you_mean(other, ["batch", "optimizer", "precision"]);
                errors.push(
                    name.span(),
                    format!("`train_memory` has no argument `{other}`{hint}; it takes batch, optimizer and precision"),
                );
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    let (Some(batch), Some(optimizer)) = (batch, optimizer) else {
        errors.push(
            raw.metric.span(),
            format!("`train_memory` needs a batch and an optimizer, {TRAIN_MEMORY_EXAMPLE}"),
        );
        return None;
    };
    let limit = count_limit(raw, "train_memory", Unit::Bytes, errors)?;
    let target = Target::TrainMemory {
        batch,
        optimizer,
        precision,
    };
    Some((target, limit))
}

/// A whole-number limit on a metric of `unit`: its value and how it shows.
fn count_limit(raw: &RawClause, name: &str, unit: Unit, errors: &mut Errors) -> Option<Limit> {
    let (number, suffix, span) = limit_parts(&raw.limit, errors)?;
    let Some(&(unit_name, scale)) = unit.suffixes().iter().find(|(s, _)| *s == suffix) else {
        errors.push(
            span,
            format!(
                "`{name}`: unknown unit `{suffix}`: this metric takes {}",
                unit.expected()
            ),
        );
        return None;
    };
    let Some(number) = number.filter(|n| n.is_finite() && *n >= 0.0) else {
        errors.push(span, "a budget limit must be a non-negative number");
        return None;
    };
    let value = number * scale as f64;
    if value > u64::MAX as f64 {
        errors.push(span, "this budget limit does not fit in u64");
        return None;
    }
    let value = value.floor();
    let text = if unit_name.is_empty() || unit_name == "B" {
        let mut t = Text::<64>::new();
        push_limit(&mut t, unit, value as u64);
        t.as_str().to_string()
    } else {
        format!("{} {unit_name}", digits(&raw.limit))
    };
    Some(Limit { value, text, span })
}

/// `params <= 4M` and the other metrics of the totals.
fn lower_metric(raw: &RawClause, name: &str, errors: &mut Errors) -> Option<(Target, Limit)> {
    if let Some(arg) = raw.args.as_ref().and_then(|a| a.first()) {
        errors.push(
            arg.value.span(),
            format!("only `latency` takes a device, `{name}` does not"),
        );
        return None;
    }
    let Some(metric) = Metric::from_name(name) else {
        let names = Metric::ALL
            .iter()
            .map(|m| m.name())
            .chain(["latency", "train_memory"]);
        let hint = did_you_mean(name, names);
        errors.push(
            raw.metric.span(),
            netspec_model::metric::unknown_metric(name, &hint, WITH_ARGUMENTS)
                .as_str()
                .to_string(),
        );
        return None;
    };
    let limit = count_limit(raw, name, metric.unit(), errors)?;
    Some((Target::Metric(metric), limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn parsed(attr: Attribute) -> (Budget, Vec<String>) {
        let mut errors = Errors::default();
        let budget = parse(&[attr], &mut errors);
        let messages = errors
            .combined()
            .map(|e| e.into_iter().map(|e| e.to_string()).collect())
            .unwrap_or_default();
        (budget, messages)
    }

    #[test]
    fn clauses_become_targets_limits_and_relations() {
        let (budget, errors) = parsed(parse_quote!(#[budget(
            params <= 4M, weight_bytes < 16MiB, macs <= 1.5G, latency(raspberry_pi_5) <= 30ms,
            peak_activation <= 100
        )]));
        assert!(errors.is_empty(), "{errors:?}");
        let c = &budget.clauses;
        assert_eq!(c.len(), 5);
        assert_eq!(c[0].target, Target::Metric(Metric::Params));
        assert_eq!((c[0].limit.value, c[0].limit.text.as_str()), (4e6, "4 M"));
        assert!(!c[0].strict && c[1].strict);
        assert_eq!(c[1].limit.value, 16.0 * 1_048_576.0);
        assert_eq!(c[1].limit.text, "16 MiB");
        assert_eq!(c[2].limit.value, 1.5e9);
        assert_eq!(c[3].target, Target::Latency(&presets::RASPBERRY_PI_5));
        assert!((c[3].limit.value - 0.03).abs() < 1e-15);
        assert_eq!(c[3].limit.text, "30.00 ms");
        // A bare number on a byte metric shows with its unit.
        assert_eq!(c[4].limit.text, "100 B");
    }

    #[test]
    fn malformed_clauses_are_reported_and_left_out() {
        let (budget, errors) = parsed(parse_quote!(#[budget(
            parameters <= 1M, params <= 4MiB, macs(cpu) <= 1M, latency <= 5ms,
            latency("tpu") <= 1ms, latency(h100_sxm) <= 5, flops <= "many", flops <= 1G
        )]));
        assert_eq!(budget.clauses.len(), 1);
        assert_eq!(errors.len(), 7, "{errors:#?}");
        assert!(errors[0]
            .starts_with("unknown budget metric `parameters`; expected one of: params, macs,"));
        assert_eq!(
            errors[1],
            "`params`: unknown unit `MiB`: this metric takes K, M, G or T"
        );
        assert_eq!(errors[2], "only `latency` takes a device, `macs` does not");
        assert!(errors[3].starts_with("`latency` needs a device"));
        assert!(errors[4].starts_with("unknown device `tpu`"));
        assert_eq!(
            errors[5],
            "`latency` takes a time with its unit (s, ms, us or ns), as in `5ms`"
        );
        assert!(errors[6].starts_with("a budget limit is a number"));
    }

    #[test]
    fn train_memory_clauses() {
        let (budget, errors) = parsed(parse_quote!(#[budget(
            train_memory(batch = 64, optimizer = adam) <= 16GiB,
            train_memory(batch = 8, optimizer = sgd_momentum, precision = mixed) < 2GB,
            train_flops <= 5T
        )]));
        assert!(errors.is_empty(), "{errors:?}");
        let c = &budget.clauses;
        assert_eq!(
            c[0].target,
            Target::TrainMemory {
                batch: 64,
                optimizer: Optimizer::Adam,
                precision: Precision::F32
            }
        );
        assert_eq!(c[0].limit.value, 16.0 * (1u64 << 30) as f64);
        assert_eq!(
            c[1].target,
            Target::TrainMemory {
                batch: 8,
                optimizer: Optimizer::SgdMomentum,
                precision: Precision::Mixed
            }
        );
        assert_eq!(c[2].target, Target::Metric(Metric::TrainFlops));
        assert_eq!(c[2].limit.value, 5e12);
        let (budget, errors) = parsed(parse_quote!(#[budget(
            train_memory <= 1GiB, train_memory(batch = 0, optimizer = adam) <= 1GiB,
            train_memory(batch = 8, optimizer = adamm) <= 1GiB,
            train_memory(batch = 8, optimiser = adam) <= 1GiB,
            train_memory(batch = 8) <= 1GiB, train_memory(batch = 8, optimizer = sgd) <= 1M
        )]));
        assert!(budget.clauses.is_empty());
        assert_eq!(
            errors,
            [
                "`train_memory` needs a batch and an optimizer, as in `train_memory(batch = 64, optimizer = adam) <= 16GiB`",
                "the batch must be a positive integer, found 0",
                "unknown optimizer `adamm`, did you mean `adam`?; expected one of: sgd, sgd_momentum, adam, adamw",
                "`train_memory` has no argument `optimiser`, did you mean `optimizer`?; it takes batch, optimizer and precision",
                // (`train_memory(batch = 8)` repeats the first message at the
                // same span here, where every token has the call site's span.)
                "`train_memory`: unknown unit `M`: this metric takes B, KB, MB, GB, TB, KiB, MiB, GiB or TiB",
            ]
        );
    }

    #[test]
    fn syntax_errors_and_empty_budgets() {
        let (budget, errors) = parsed(parse_quote!(#[budget(params >= 4M)]));
        assert!(budget.clauses.is_empty());
        assert_eq!(errors, ["expected `<=` or `<`"]);
        let (_, errors) = parsed(parse_quote!(#[budget()]));
        assert_eq!(
            errors,
            ["a budget needs at least one clause, as in `budget(params <= 4M)`"]
        );
    }
}
