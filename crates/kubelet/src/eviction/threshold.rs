//! Eviction thresholds (`--eviction-hard memory.available<100Mi,nodefs.available<10%`).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    MemoryAvailable,
    NodeFsAvailable,
    ImageFsAvailable,
}

impl Signal {
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::MemoryAvailable => "memory.available",
            Signal::NodeFsAvailable => "nodefs.available",
            Signal::ImageFsAvailable => "imagefs.available",
        }
    }

    /// The resource named in eviction messages.
    pub fn resource(self) -> &'static str {
        match self {
            Signal::MemoryAvailable => "memory",
            Signal::NodeFsAvailable | Signal::ImageFsAvailable => "ephemeral-storage",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Signal::MemoryAvailable,
            Signal::NodeFsAvailable,
            Signal::ImageFsAvailable,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ThresholdValue {
    /// Bytes, with the quantity as written (`100Mi`) for messages.
    Quantity { bytes: u64, text: String },
    /// A share of the capacity, 0..=100.
    Percentage(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub signal: Signal,
    pub value: ThresholdValue,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ThresholdError {
    #[error("{0:?}: expected <signal><<quantity or percentage>")]
    Syntax(String),
    #[error("{0:?}: unknown eviction signal")]
    UnknownSignal(String),
    #[error("{0:?}: invalid threshold value")]
    Value(String),
}

impl Threshold {
    /// The threshold in bytes for a resource of `capacity` bytes.
    pub fn bytes(&self, capacity: u64) -> u64 {
        match &self.value {
            ThresholdValue::Quantity { bytes, .. } => *bytes,
            ThresholdValue::Percentage(p) => (capacity as f64 * p / 100.0) as u64,
        }
    }
}

impl fmt::Display for ThresholdValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThresholdValue::Quantity { text, .. } => f.write_str(text),
            ThresholdValue::Percentage(p) => write!(f, "{p}%"),
        }
    }
}

/// Upstream's default hard thresholds on Linux.
pub fn default_hard_thresholds() -> Vec<Threshold> {
    parse_thresholds("memory.available<100Mi,nodefs.available<10%,imagefs.available<15%")
        .unwrap_or_default()
}

/// Parses `signal<value` items separated by commas; a later item replaces an earlier one of the
/// same signal.
pub fn parse_thresholds(text: &str) -> Result<Vec<Threshold>, ThresholdError> {
    let mut thresholds: Vec<Threshold> = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (signal, value) = item
            .split_once('<')
            .ok_or_else(|| ThresholdError::Syntax(item.into()))?;
        let signal = Signal::parse(signal.trim())
            .ok_or_else(|| ThresholdError::UnknownSignal(item.into()))?;
        let value = parse_value(value.trim()).ok_or_else(|| ThresholdError::Value(item.into()))?;
        thresholds.retain(|t| t.signal != signal);
        thresholds.push(Threshold { signal, value });
    }
    Ok(thresholds)
}

fn parse_value(text: &str) -> Option<ThresholdValue> {
    if let Some(percent) = text.strip_suffix('%') {
        let p: f64 = percent.parse().ok()?;
        return (0.0..=100.0)
            .contains(&p)
            .then_some(ThresholdValue::Percentage(p));
    }
    let milli = api::quantity::Quantity::parse(text).ok()?.milli_value();
    let bytes = u64::try_from(milli / 1000).ok()?;
    Some(ThresholdValue::Quantity {
        bytes,
        text: text.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quantities_and_percentages() {
        let t = parse_thresholds("memory.available<100Mi, nodefs.available<10%").unwrap();
        assert_eq!(t[0].signal, Signal::MemoryAvailable);
        assert_eq!(t[0].bytes(0), 100 * 1024 * 1024);
        assert_eq!(t[0].value.to_string(), "100Mi");
        assert_eq!(t[1].bytes(1000), 100);
        let huge = parse_thresholds("memory.available<1000Ti").unwrap();
        assert_eq!(huge[0].bytes(0), 1000 * (1u64 << 40));
        assert_eq!(default_hard_thresholds().len(), 3);
    }

    #[test]
    fn rejects_bad_items() {
        assert!(matches!(
            parse_thresholds("memory.available"),
            Err(ThresholdError::Syntax(_))
        ));
        assert!(matches!(
            parse_thresholds("cpu.available<1"),
            Err(ThresholdError::UnknownSignal(_))
        ));
        assert!(matches!(
            parse_thresholds("memory.available<lots"),
            Err(ThresholdError::Value(_))
        ));
        assert!(matches!(
            parse_thresholds("nodefs.available<120%"),
            Err(ThresholdError::Value(_))
        ));
    }
}
