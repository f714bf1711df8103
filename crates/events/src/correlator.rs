//! Upstream's event correlation (client-go's EventCorrelator), so a controller creating ten
//! thousand pods writes a few dozen Events, not ten thousand:
//! - aggregation: once 10 Events about one object differ only by message within 10 minutes,
//!   the next ones become one "(combined from similar events): …" Event;
//! - counting: an Event seen before is a patch of the earlier one's count, not a new object;
//! - spam filter: a source may burst 25 Events about one object, then 1 every 5 minutes.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

const AGGREGATE_MAX_EVENTS: usize = 10;
const AGGREGATE_INTERVAL: Duration = Duration::from_secs(600);
const SPAM_BURST: f64 = 25.0;
const SPAM_REFILL_PER_SECOND: f64 = 1.0 / 300.0;
/// Entries each cache keeps, as upstream's LRU size.
const CACHE_ENTRIES: usize = 4096;
pub const AGGREGATE_PREFIX: &str = "(combined from similar events): ";

/// The parts of an Event correlation looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFacts {
    /// Source component, involved object (kind, namespace, name, uid, apiVersion): the spam key.
    pub source_and_object: String,
    pub field_path: String,
    pub type_: String,
    pub reason: String,
    pub message: String,
}

/// What to write for one Event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Correlated {
    /// Over the spam budget: write nothing.
    Skip,
    /// A new Event with this message.
    Create { message: String },
    /// The Event `name` again: its count is now `count`, its message `message`.
    Patch {
        name: String,
        count: i32,
        message: String,
    },
}

struct AggregateRecord {
    messages: HashSet<String>,
    last_seen: Instant,
}

struct Observation {
    name: String,
    count: i32,
    last_used: Instant,
}

struct TokenBucket {
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * SPAM_REFILL_PER_SECOND).min(SPAM_BURST);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[derive(Default)]
pub struct EventCorrelator {
    aggregates: HashMap<String, AggregateRecord>,
    observations: HashMap<String, Observation>,
    spam: HashMap<String, TokenBucket>,
}

impl EventCorrelator {
    /// Correlate an Event about to be recorded at `now`. When the answer is `Create`, call
    /// [`EventCorrelator::created`] with the new Event's name once it is written.
    pub fn correlate(&mut self, event: &EventFacts, now: Instant) -> (Correlated, String) {
        let (message, key) = self.aggregate(event, now);
        let observed = match self.observations.get_mut(&key) {
            Some(seen) => {
                seen.count = seen.count.saturating_add(1);
                seen.last_used = now;
                Some((seen.name.clone(), seen.count))
            }
            None => None,
        };
        if !self.spam_allows(&event.source_and_object, now) {
            return (Correlated::Skip, key);
        }
        let correlated = match observed {
            Some((name, count)) => Correlated::Patch {
                name,
                count,
                message,
            },
            None => Correlated::Create { message },
        };
        (correlated, key)
    }

    /// The Event created for `key` is `name`: later ones with that key patch it.
    pub fn created(&mut self, key: String, name: String, now: Instant) {
        bound(&mut self.observations, |o| o.last_used);
        self.observations.insert(
            key,
            Observation {
                name,
                count: 1,
                last_used: now,
            },
        );
    }

    /// The Event `key` named is gone (a patch found nothing): the next one is created anew.
    pub fn forget(&mut self, key: &str) {
        self.observations.remove(key);
    }

    /// The message to write and the key the Event is counted under.
    fn aggregate(&mut self, event: &EventFacts, now: Instant) -> (String, String) {
        let aggregate_key = format!(
            "{}\u{0}{}\u{0}{}",
            event.source_and_object, event.type_, event.reason
        );
        let event_key = format!(
            "{aggregate_key}\u{0}{}\u{0}{}",
            event.field_path, event.message
        );
        bound(&mut self.aggregates, |r| r.last_seen);
        let record = self
            .aggregates
            .entry(aggregate_key.clone())
            .or_insert_with(|| AggregateRecord {
                messages: HashSet::new(),
                last_seen: now,
            });
        if now.saturating_duration_since(record.last_seen) > AGGREGATE_INTERVAL {
            record.messages.clear();
        }
        record.last_seen = now;
        record.messages.insert(event.message.clone());
        if record.messages.len() < AGGREGATE_MAX_EVENTS {
            return (event.message.clone(), event_key);
        }
        // Keep the set at the threshold: every further message is aggregated.
        if let Some(any) = record.messages.iter().next().cloned() {
            record.messages.remove(&any);
        }
        (
            format!("{AGGREGATE_PREFIX}{}", event.message),
            aggregate_key,
        )
    }

    fn spam_allows(&mut self, key: &str, now: Instant) -> bool {
        bound(&mut self.spam, |b| b.refilled_at);
        self.spam
            .entry(key.to_string())
            .or_insert_with(|| TokenBucket {
                tokens: SPAM_BURST,
                refilled_at: now,
            })
            .try_take(now)
    }
}

/// Keep a cache under CACHE_ENTRIES by dropping its least recently used half when full.
fn bound<V>(cache: &mut HashMap<String, V>, last_used: impl Fn(&V) -> Instant) {
    if cache.len() < CACHE_ENTRIES {
        return;
    }
    let mut ages: Vec<Instant> = cache.values().map(&last_used).collect();
    ages.sort_unstable();
    let cutoff = ages[ages.len() / 2];
    cache.retain(|_, v| last_used(v) > cutoff);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(object: &str, reason: &str, message: &str) -> EventFacts {
        EventFacts {
            source_and_object: format!("replicaset-controller/ReplicaSet/default/{object}"),
            field_path: String::new(),
            type_: "Normal".into(),
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// Correlate and, for creations, record the Event as written under a made-up name.
    fn record(c: &mut EventCorrelator, e: &EventFacts, now: Instant) -> Correlated {
        let (result, key) = c.correlate(e, now);
        if let Correlated::Create { .. } = result {
            c.created(key, format!("ev-{}", e.message), now);
        }
        result
    }

    #[test]
    fn the_same_event_again_patches_the_count_of_the_first() {
        let mut c = EventCorrelator::default();
        let now = Instant::now();
        let e = event("web", "FailedCreate", "quota exceeded");
        assert_eq!(
            record(&mut c, &e, now),
            Correlated::Create {
                message: "quota exceeded".into()
            }
        );
        assert_eq!(
            record(&mut c, &e, now),
            Correlated::Patch {
                name: "ev-quota exceeded".into(),
                count: 2,
                message: "quota exceeded".into()
            }
        );
    }

    #[test]
    fn the_tenth_similar_message_starts_one_combined_event() {
        let mut c = EventCorrelator::default();
        let now = Instant::now();
        for i in 0..9 {
            let e = event("web", "SuccessfulCreate", &format!("Created pod: web-{i}"));
            assert!(matches!(record(&mut c, &e, now), Correlated::Create { .. }));
        }
        let tenth = event("web", "SuccessfulCreate", "Created pod: web-9");
        assert_eq!(
            record(&mut c, &tenth, now),
            Correlated::Create {
                message: "(combined from similar events): Created pod: web-9".into()
            }
        );
        let eleventh = event("web", "SuccessfulCreate", "Created pod: web-10");
        assert_eq!(
            record(&mut c, &eleventh, now),
            Correlated::Patch {
                name: "ev-Created pod: web-9".into(),
                count: 2,
                message: "(combined from similar events): Created pod: web-10".into()
            }
        );
        // Another object is aggregated on its own.
        let other = event("api", "SuccessfulCreate", "Created pod: api-0");
        assert!(matches!(
            record(&mut c, &other, now),
            Correlated::Create { message } if message == "Created pod: api-0"
        ));
    }

    #[test]
    fn similar_events_are_aggregated_afresh_after_ten_quiet_minutes() {
        let mut c = EventCorrelator::default();
        let start = Instant::now();
        for i in 0..9 {
            record(&mut c, &event("web", "R", &format!("m{i}")), start);
        }
        let later = start + AGGREGATE_INTERVAL + Duration::from_secs(1);
        assert_eq!(
            record(&mut c, &event("web", "R", "m9"), later),
            Correlated::Create {
                message: "m9".into()
            }
        );
    }

    #[test]
    fn a_source_may_burst_25_events_about_an_object_then_one_every_five_minutes() {
        let mut c = EventCorrelator::default();
        let start = Instant::now();
        let written = (0..40)
            .filter(|i| {
                let e = event("web", &format!("Reason{i}"), "m");
                record(&mut c, &e, start) != Correlated::Skip
            })
            .count();
        assert_eq!(written, 25);
        let e = event("web", "Later", "m");
        assert_eq!(
            record(&mut c, &e, start + Duration::from_secs(299)),
            Correlated::Skip
        );
        assert_ne!(
            record(&mut c, &e, start + Duration::from_secs(301)),
            Correlated::Skip
        );
        // Other objects have their own budget.
        assert_ne!(
            record(&mut c, &event("api", "Reason", "m"), start),
            Correlated::Skip
        );
    }

    #[test]
    fn caches_stay_bounded() {
        let mut c = EventCorrelator::default();
        let start = Instant::now();
        for i in 0..(CACHE_ENTRIES * 3) {
            let now = start + Duration::from_millis(i as u64);
            record(&mut c, &event(&format!("o{i}"), "R", "m"), now);
        }
        assert!(c.spam.len() <= CACHE_ENTRIES);
        assert!(c.aggregates.len() <= CACHE_ENTRIES);
        assert!(c.observations.len() <= CACHE_ENTRIES);
    }
}
