//! Compile-fail cases of `network!` and `assert_budget!`: each `.rs` under
//! `tests/ui/<category>/` must fail with exactly the `.stderr` beside it.
//! Regenerate with `TRYBUILD=overwrite` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*/*.rs");
}
