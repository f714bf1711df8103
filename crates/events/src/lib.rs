#![forbid(unsafe_code)]
//! What every component's event recorder shares: upstream's event correlation (client-go's
//! EventCorrelator, pure: `correlator.rs`) and the write that follows it (`writer.rs`: create,
//! or patch the count of the Event repeated). Each recorder builds the Event it is told.

mod correlator;
mod writer;

pub use correlator::{Correlated, EventCorrelator, EventFacts, AGGREGATE_PREFIX};
pub use writer::{EventWriter, PendingEvent};
