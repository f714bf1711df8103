//! Cron schedules in a time zone (`spec.timeZone`, or a `CRON_TZ=`/`TZ=` prefix), and upstream's
//! rules for which scheduled time is due: the most recent one since the last run (or creation),
//! no older than startingDeadlineSeconds, with more than 100 missed ones reported.

use croner::parser::{CronParser, Seconds};
use croner::Cron;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Upstream's threshold for the "too many missed start times" warning.
pub const TOO_MANY_MISSED: usize = 100;

pub struct Schedule {
    cron: Cron,
    zone: TimeZone,
}

#[derive(Debug, PartialEq, Eq)]
pub struct DueTime {
    /// The most recent scheduled time in (earliest, now], if any.
    pub most_recent: Option<Timestamp>,
    /// How many scheduled times were in that window (capped a little over the threshold).
    pub missed: usize,
}

impl Schedule {
    pub fn parse(schedule: &str, time_zone: Option<&str>) -> Result<Self, String> {
        let mut pattern = schedule.trim();
        let mut zone_name = time_zone.map(str::to_string);
        for prefix in ["CRON_TZ=", "TZ="] {
            if let Some(rest) = pattern.strip_prefix(prefix) {
                let (zone, rest) = rest
                    .split_once(char::is_whitespace)
                    .ok_or("missing schedule after time zone")?;
                zone_name = Some(zone.to_string());
                pattern = rest.trim();
            }
        }
        let zone = match zone_name.as_deref() {
            None | Some("") => TimeZone::UTC,
            Some(name) => {
                TimeZone::get(name).map_err(|e| format!("invalid timeZone: {name:?}: {e}"))?
            }
        };
        let parser = CronParser::builder().seconds(Seconds::Disallowed).build();
        let cron = parser
            .parse(pattern)
            .map_err(|e| format!("unparseable schedule: {pattern:?} : {e}"))?;
        Ok(Self { cron, zone })
    }

    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let zoned = after.to_zoned(self.zone.clone());
        self.cron
            .find_next_occurrence(&zoned, false)
            .ok()
            .map(|z| z.timestamp())
    }

    pub fn due(
        &self,
        earliest: Timestamp,
        now: Timestamp,
        starting_deadline_seconds: Option<i64>,
    ) -> DueTime {
        let earliest = match starting_deadline_seconds {
            Some(seconds) => earliest.max(now - SignedDuration::from_secs(seconds)),
            None => earliest,
        };
        let mut due = DueTime {
            most_recent: None,
            missed: 0,
        };
        let mut cursor = earliest;
        while let Some(next) = self.next_after(cursor).filter(|next| *next <= now) {
            due.missed += 1;
            due.most_recent = Some(next);
            cursor = next;
            if due.missed > TOO_MANY_MISSED {
                let zoned = now.to_zoned(self.zone.clone());
                due.most_recent = self
                    .cron
                    .find_previous_occurrence(&zoned, true)
                    .ok()
                    .map(|z| z.timestamp());
                break;
            }
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn five_fields_and_macros_give_the_next_run() {
        let every_five = Schedule::parse("*/5 * * * *", None).unwrap();
        assert_eq!(
            every_five.next_after(at("2025-01-01T00:03:00Z")),
            Some(at("2025-01-01T00:05:00Z"))
        );
        let hourly = Schedule::parse("@hourly", None).unwrap();
        assert_eq!(
            hourly.next_after(at("2025-01-01T00:03:00Z")),
            Some(at("2025-01-01T01:00:00Z"))
        );
        let mondays = Schedule::parse("0 0 * * 1", None).unwrap();
        assert_eq!(
            mondays.next_after(at("2025-01-01T00:00:00Z")),
            Some(at("2025-01-06T00:00:00Z"))
        );
        assert!(
            Schedule::parse("* * * * * *", None).is_err(),
            "six fields are not a Kubernetes schedule"
        );
    }

    #[test]
    fn time_zones_shift_the_schedule() {
        let nine_in_tokyo = Schedule::parse("0 9 * * *", Some("Asia/Tokyo")).unwrap();
        assert_eq!(
            nine_in_tokyo.next_after(at("2025-01-01T00:30:00Z")),
            Some(at("2025-01-02T00:00:00Z"))
        );
        let prefixed = Schedule::parse("CRON_TZ=Asia/Tokyo 0 9 * * *", None).unwrap();
        assert_eq!(
            prefixed.next_after(at("2025-01-01T00:30:00Z")),
            Some(at("2025-01-02T00:00:00Z"))
        );
        assert!(Schedule::parse("0 9 * * *", Some("Mars/Olympus")).is_err());
    }

    #[test]
    fn the_most_recent_missed_time_is_due_and_old_ones_are_counted() {
        let every_minute = Schedule::parse("* * * * *", None).unwrap();
        let due = every_minute.due(at("2025-01-01T00:00:00Z"), at("2025-01-01T00:03:30Z"), None);
        assert_eq!(
            due,
            DueTime {
                most_recent: Some(at("2025-01-01T00:03:00Z")),
                missed: 3
            }
        );
        let nothing =
            every_minute.due(at("2025-01-01T00:03:00Z"), at("2025-01-01T00:03:30Z"), None);
        assert_eq!(nothing.most_recent, None);
        let many = every_minute.due(at("2025-01-01T00:00:00Z"), at("2025-01-02T00:00:30Z"), None);
        assert!(many.missed > TOO_MANY_MISSED);
        assert_eq!(many.most_recent, Some(at("2025-01-02T00:00:00Z")));
        let bounded = every_minute.due(
            at("2025-01-01T00:00:00Z"),
            at("2025-01-02T00:00:30Z"),
            Some(90),
        );
        assert_eq!(
            bounded,
            DueTime {
                most_recent: Some(at("2025-01-02T00:00:00Z")),
                missed: 1
            }
        );
    }
}
