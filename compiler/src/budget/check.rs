//! Checking a [`Budget`] against a network's counts: every broken clause
//! becomes an error spanning the clause, with the value, the limit and how
//! far over it is.

use super::{Budget, Clause, Target};
use crate::count::Counted;
use crate::value::Errors;
use netspec_model::format::{seconds, si, Text};
use netspec_model::metric::{exceeded, push_over, train_memory_exceeded};
use netspec_model::presets::Preset;
use netspec_model::Metric;

/// Reports every clause of `budget` that `counted` breaks.
pub fn check(budget: &Budget, counted: &Counted, errors: &mut Errors) {
    for clause in &budget.clauses {
        let message = match clause.target {
            Target::Metric(metric) => check_metric(clause, metric, counted),
            Target::Latency(preset) => check_latency(clause, preset, counted),
            Target::TrainMemory {
                batch,
                optimizer,
                precision,
            } => {
                let value = counted.totals.train_memory(batch, optimizer, precision);
                let limit = clause.limit.value as u64;
                netspec_model::metric::over(value, limit, clause.strict).then(|| {
                    let m = train_memory_exceeded(
                        "",
                        batch,
                        optimizer,
                        precision,
                        value,
                        limit,
                        &clause.limit.text,
                        clause.strict,
                    );
                    m.as_str().to_string()
                })
            }
        };
        if let Some(message) = message {
            errors.push_error(syn::Error::new_spanned(&clause.tokens, message));
        }
    }
}

/// Whether `value` breaks the clause's limit.
fn over(clause: &Clause, value: f64) -> bool {
    if clause.strict {
        value >= clause.limit.value
    } else {
        value > clause.limit.value
    }
}

fn check_metric(clause: &Clause, metric: Metric, counted: &Counted) -> Option<String> {
    let value = metric.get(&counted.totals);
    // Count limits are whole numbers below 2^64 (checked when parsing).
    let limit = clause.limit.value as u64;
    if !netspec_model::metric::over(value, limit, clause.strict) {
        return None;
    }
    let message = exceeded("", metric, value, limit, &clause.limit.text, clause.strict);
    Some(message.as_str().to_string())
}

/// `latency(<device>)`: the roofline lower bound of one sample on a preset.
fn check_latency(clause: &Clause, preset: &Preset, counted: &Counted) -> Option<String> {
    let t = preset.roofline_seconds(counted.flops_and_bytes());
    if !over(clause, t) {
        return None;
    }
    let relation = if clause.strict {
        "must stay below"
    } else {
        "is"
    };
    let mut percent = Text::<32>::new();
    push_over(&mut percent, t, clause.limit.value);
    Some(format!(
        "budget exceeded: the roofline latency on {} is {} (f32 peak {}FLOP/s, {}B/s, batch 1), the budget {relation} {}{}",
        preset.name,
        seconds(t),
        si(preset.f32_flops as u64),
        si(preset.bandwidth as u64),
        clause.limit.text,
        percent.as_str(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use crate::count::LayerCounts;
    use netspec_model::{Costs, Counts, Totals, Training};
    use syn::parse_quote;

    /// One conv layer: 1,792 params, 1,555,200 MACs, 3,110,400 + 57,600 FLOPs
    /// (Conv2d(64, 3) on [3, 32, 32]: 64·30·30 outputs, 27 MACs each, plus bias).
    fn counted() -> Counted {
        let costs = Costs::new(1_792, 0, 1_555_200, 3_168_000, 263_488, 57_600);
        Counted {
            layers: vec![LayerCounts {
                costs,
                counts: Counts::ZERO,
                training: Training::ZERO,
            }],
            totals: Totals {
                costs,
                weight_bytes: 4 * 1_792,
                ..Totals::ZERO
            },
        }
    }

    fn checked(attr: syn::Attribute) -> Vec<String> {
        let mut errors = Errors::default();
        let budget = parse(&[attr], &mut errors);
        assert_eq!(errors.len(), 0);
        check(&budget, &counted(), &mut errors);
        errors
            .combined()
            .map(|e| e.into_iter().map(|e| e.to_string()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn only_broken_clauses_are_reported() {
        let errors = checked(parse_quote!(#[budget(params <= 2K, macs <= 1M, flops <= 1G)]));
        // (1,555,200 − 1,000,000) / 1,000,000 = 55.52 %
        assert_eq!(
            errors,
            ["budget exceeded: MACs are 1,555,200 (1.555 M), the budget is 1 M (55.5 % over)"]
        );
    }

    #[test]
    fn strict_limits_and_bytes() {
        let errors = checked(parse_quote!(#[budget(params < 1792, weight_bytes <= 4KiB)]));
        assert_eq!(
            errors,
            [
                "budget exceeded: params are 1,792 (1.792 K), the budget must stay below 1,792 (0.0 % over)",
                // 7,168 B over 4,096 B: 75 %
                "budget exceeded: weight bytes are 7,168 B (7.000 KiB), the budget is 4 KiB (75.0 % over)",
            ]
        );
        assert!(checked(parse_quote!(#[budget(params <= 1792)])).is_empty());
    }

    #[test]
    fn train_memory_and_train_flops() {
        let mut c = counted();
        // 1,000 floats and 10 indices per sample, 64 statistics
        c.totals.training = Training::new(100, 200, 300, 400, 0, 1_000, 10, 64);
        // f32 Adam at batch 4: 16·1,792 + 4·(4·1,000 + 8·10) + 4·64 = 45,248
        let mut errors = Errors::default();
        let budget = parse(
            &[parse_quote!(#[budget(
                train_memory(batch = 4, optimizer = adam) <= 44KiB,
                train_memory(batch = 4, optimizer = adam) <= 45248,
                train_flops < 3_168_700
            )])],
            &mut errors,
        );
        check(&budget, &c, &mut errors);
        let messages: Vec<String> = errors
            .combined()
            .map(|e| e.into_iter().map(|e| e.to_string()).collect())
            .unwrap_or_default();
        assert_eq!(
            messages,
            [
                // 45,248 B = 44.19 KiB; (45,248 − 45,056) / 45,056 = 0.43 %
                "budget exceeded: training memory at batch 4 with Adam in f32 is 45,248 B (44.19 KiB), the budget is 44 KiB (0.4 % over)",
                // 3,168,000 + 700 = 3,168,700
                "budget exceeded: training-step FLOPs are 3,168,700 (3.169 M), the budget must stay below 3,168,700 (0.0 % over)",
            ]
        );
    }

    #[test]
    fn latency_is_the_roofline_bound() {
        // Raspberry Pi 5: 3,168,000 / 153.6e9 = 20.625 us (printed 20.62: the f64 is a
        // hair below) against 263,488 / 17.07e9 = 15.44 us.
        let errors = checked(parse_quote!(#[budget(latency(raspberry_pi_5) <= 10us)]));
        assert_eq!(
            errors,
            ["budget exceeded: the roofline latency on Raspberry Pi 5 is 20.62 us (f32 peak 153.6 GFLOP/s, 17.07 GB/s, batch 1), the budget is 10.00 us (106.3 % over)"]
        );
        assert!(checked(parse_quote!(#[budget(latency("raspberry-pi-5") <= 21us)])).is_empty());
    }
}
