//! Human durations as upstream prints ages: "5s", "3m20s", "2d3h", "10y".

use jiff::Timestamp;

/// A duration in whole seconds, shortened the way upstream's `HumanDuration` does: exact
/// seconds under two minutes, then coarser units the longer it gets. Up to one second in the
/// future counts as "0s"; further is "<invalid>".
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return with_remainder(minutes, "m", seconds % 60, "s");
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        return with_remainder(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        return with_remainder(days, "d", hours % 24, "h");
    }
    if hours < 24 * 365 * 2 {
        return format!("{days}d");
    }
    let years = days / 365;
    if hours < 24 * 365 * 8 {
        return with_remainder(years, "y", days % 365, "d");
    }
    format!("{years}y")
}

fn with_remainder(whole: i64, unit: &str, rest: i64, rest_unit: &str) -> String {
    if rest == 0 {
        format!("{whole}{unit}")
    } else {
        format!("{whole}{unit}{rest}{rest_unit}")
    }
}

/// Parses an RFC 3339 timestamp as the API writes them; `None` when absent or unreadable.
pub(crate) fn parse_time(text: Option<&str>) -> Option<Timestamp> {
    text.filter(|t| !t.is_empty())
        .and_then(|t| t.parse::<Timestamp>().ok())
}

/// Human duration from `then` to `now`.
pub(crate) fn between(then: Timestamp, now: Timestamp) -> String {
    human_duration(now.as_second() - then.as_second())
}

/// Age of a timestamp field, "<unknown>" when it is unset.
pub(crate) fn since(text: Option<&str>, now: Timestamp) -> String {
    parse_time(text).map_or_else(|| "<unknown>".to_string(), |then| between(then, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (5, "5s"),
            (119, "119s"),
            (120, "2m"),
            (200, "3m20s"),
            (599, "9m59s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 25 * 60, "3h25m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (2 * 86400 + 3 * 3600, "2d3h"),
            (8 * 86400, "8d"),
            (729 * 86400, "729d"),
            (730 * 86400, "2y"),
            (731 * 86400, "2y1d"),
            (3650 * 86400, "10y"),
        ];
        for (seconds, want) in cases {
            assert_eq!(human_duration(seconds), want, "{seconds}s");
        }
    }

    #[test]
    fn since_timestamps() {
        let now: Timestamp = "2024-01-01T00:10:00Z".parse().expect("time");
        assert_eq!(since(Some("2024-01-01T00:00:00Z"), now), "10m");
        assert_eq!(since(None, now), "<unknown>");
    }
}
