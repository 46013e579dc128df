//! Spec-sheet figures of hardware people deploy networks to: the data lives
//! in `netspec_model::presets` (so the `network!` macro can check
//! `latency(<preset>)` budgets at compile time); this module turns a preset
//! into a [`HardwareProfile`].

use super::HardwareProfile;
pub use netspec_model::presets::*;

/// Roofline profiles of a [`Preset`].
pub trait PresetProfile {
    /// The f32 roofline profile of this device.
    fn profile(&self) -> HardwareProfile;

    /// The f16/bf16 roofline profile (bytes halve too: pass the f16 byte
    /// count to the roofline yourself), `None` where no figure exists.
    fn profile_f16(&self) -> Option<HardwareProfile>;
}

impl PresetProfile for Preset {
    fn profile(&self) -> HardwareProfile {
        let mut p =
            HardwareProfile::from_peak_and_bandwidth(self.name, self.f32_flops, self.bandwidth);
        p.source = format!("preset: {} ({})", self.source, self.note);
        p
    }

    fn profile_f16(&self) -> Option<HardwareProfile> {
        let flops = self.f16_flops?;
        let mut p = HardwareProfile::from_peak_and_bandwidth(
            format!("{} (f16)", self.name),
            flops,
            self.bandwidth,
        );
        p.source = format!("preset: {} ({})", self.source, self.note);
        Some(p)
    }
}
