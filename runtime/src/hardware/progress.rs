//! Hardware measurement with a progress bar on stderr (indicatif), hidden
//! when stderr is not a terminal.

use super::{peak, HardwareProfile, ProfileOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

impl HardwareProfile {
    /// [`HardwareProfile::measure_with`], showing a progress bar on stderr:
    /// each finished figure is printed above the bar, the bar names the one
    /// being measured. Nothing is drawn when stderr is not a terminal (the
    /// profile's `Display` gives every figure).
    pub fn measure_with_progress_bar(options: &ProfileOptions) -> HardwareProfile {
        let phases: Vec<String> = peak::kernels()
            .iter()
            .map(|k| format!("peak FLOP/s, {}", k.simd.name()))
            .chain([
                "triad: allocating".to_string(),
                "triad bandwidth".to_string(),
            ])
            .collect();
        let bar =
            ProgressBar::with_draw_target(Some(phases.len() as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "measuring this CPU [{bar:24}] {pos}/{len} {msg} ({elapsed})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(phases.first().cloned().unwrap_or_default());
        let profile = HardwareProfile::measure_with(options, &mut |line| {
            bar.println(format!("  {line}"));
            bar.inc(1);
            let next = usize::try_from(bar.position()).unwrap_or(usize::MAX);
            bar.set_message(phases.get(next).cloned().unwrap_or_default());
        });
        bar.finish_and_clear();
        profile
    }
}
