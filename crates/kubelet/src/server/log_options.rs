//! What a `/containerLogs` request asks for (upstream's PodLogOptions).

use super::query::QueryPairs;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogOptions {
    pub follow: bool,
    pub previous: bool,
    /// Lines older than this are skipped.
    pub since: Option<jiff::Timestamp>,
    pub timestamps: bool,
    pub tail_lines: Option<u64>,
    pub limit_bytes: Option<u64>,
}

fn non_negative(query: &QueryPairs, key: &str) -> Result<Option<u64>, String> {
    match query.integer(key)? {
        None => Ok(None),
        Some(n) if n < 0 => Err(format!("{key} must be non-negative")),
        Some(n) => Ok(Some(n.unsigned_abs())),
    }
}

impl LogOptions {
    /// Read the options; `now` turns `sinceSeconds` into a point in time.
    pub fn from_query(query: &QueryPairs, now: jiff::Timestamp) -> Result<Self, String> {
        let since_seconds = non_negative(query, "sinceSeconds")?;
        let since_time = query.first("sinceTime").filter(|v| !v.is_empty());
        let since = match (since_seconds, since_time) {
            (Some(_), Some(_)) => {
                return Err("at most one of sinceTime or sinceSeconds may be specified".into())
            }
            (Some(seconds), None) => {
                let seconds = i64::try_from(seconds).map_err(|_| "sinceSeconds is too large")?;
                Some(
                    now.checked_sub(jiff::SignedDuration::from_secs(seconds))
                        .map_err(|e| e.to_string())?,
                )
            }
            (None, Some(text)) => Some(
                text.parse::<jiff::Timestamp>()
                    .map_err(|e| format!("invalid sinceTime {text:?}: {e}"))?,
            ),
            (None, None) => None,
        };
        Ok(Self {
            follow: query.flag("follow"),
            previous: query.flag("previous"),
            since,
            timestamps: query.flag("timestamps"),
            tail_lines: non_negative(query, "tailLines")?,
            limit_bytes: non_negative(query, "limitBytes")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_option() {
        let now: jiff::Timestamp = "2024-01-01T00:01:00Z".parse().unwrap();
        let q = QueryPairs::parse(Some(
            "follow=true&previous=1&sinceSeconds=60&timestamps=true&tailLines=5&limitBytes=10",
        ));
        let o = LogOptions::from_query(&q, now).unwrap();
        assert!(o.follow && o.previous && o.timestamps);
        assert_eq!(o.since, Some("2024-01-01T00:00:00Z".parse().unwrap()));
        assert_eq!((o.tail_lines, o.limit_bytes), (Some(5), Some(10)));
        let q = QueryPairs::parse(Some("sinceTime=2024-01-01T00:00:00Z&sinceSeconds=1"));
        assert!(LogOptions::from_query(&q, now).is_err());
        let q = QueryPairs::parse(Some("tailLines=-1"));
        assert!(LogOptions::from_query(&q, now).is_err());
    }
}
