//! Node-pressure eviction (upstream's eviction manager, simplified): hard thresholds on
//! memory.available, nodefs.available and imagefs.available; MemoryPressure / DiskPressure node
//! conditions; one pod evicted per check while a threshold is met.

mod manager;
pub mod message;
pub mod observation;
pub mod pressure;
pub mod ranking;
pub mod threshold;
pub mod usage;

pub use manager::{run_eviction_manager, EvictionManager};
pub use pressure::{apply_pressure, no_pressure, PressureSender, PressureState};
pub use threshold::{default_hard_thresholds, parse_thresholds, Signal, Threshold, ThresholdError};
