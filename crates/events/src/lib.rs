#![forbid(unsafe_code)]
//! What every component's event recorder shares: upstream's event correlation (client-go's
//! EventCorrelator). Pure: no I/O, no API types; each recorder writes what it is told.

mod correlator;

pub use correlator::{Correlated, EventCorrelator, EventFacts, AGGREGATE_PREFIX};
