//! CronJob schedules as robfig/cron's `ParseStandard` reads them (five fields, or a `@` macro),
//! with its error texts.

/// One field's allowed range and names.
struct FieldRange {
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const FIELDS: [FieldRange; 5] = [
    FieldRange {
        min: 0,
        max: 59,
        names: &[],
    },
    FieldRange {
        min: 0,
        max: 23,
        names: &[],
    },
    FieldRange {
        min: 1,
        max: 31,
        names: &[],
    },
    FieldRange {
        min: 1,
        max: 12,
        names: &MONTHS,
    },
    FieldRange {
        min: 0,
        max: 6,
        names: &DAYS,
    },
];

const MACROS: [&str; 7] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Whether the schedule parses; the error is robfig/cron's message.
pub fn parse_schedule(schedule: &str) -> Result<(), String> {
    let mut spec = schedule.trim();
    if spec.is_empty() {
        return Err("empty spec string".to_string());
    }
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let Some((_, rest)) = spec.split_once(' ') else {
            return Err(format!(
                "provided bad location {}: unknown time zone",
                &spec[spec.find('=').map_or(0, |i| i + 1)..]
            ));
        };
        spec = rest.trim();
    }
    if let Some(rest) = spec.strip_prefix('@') {
        if MACROS.contains(&spec) {
            return Ok(());
        }
        if let Some(duration) = rest.strip_prefix("every ") {
            return if is_go_duration(duration) {
                Ok(())
            } else {
                Err(format!(
                    "failed to parse duration {spec}: time: invalid duration \"{duration}\""
                ))
            };
        }
        return Err(format!("unrecognized descriptor: {spec}"));
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != FIELDS.len() {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    for (field, range) in fields.iter().zip(FIELDS.iter()) {
        for expression in field.split(',') {
            parse_range(expression, range)?;
        }
    }
    Ok(())
}

fn parse_range(expression: &str, range: &FieldRange) -> Result<(), String> {
    let range_and_step: Vec<&str> = expression.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let (start, mut end) = if low_and_high[0] == "*" || low_and_high[0] == "?" {
        (range.min, range.max)
    } else {
        let start = int_or_name(low_and_high[0], range.names)?;
        let end = match low_and_high.len() {
            1 => start,
            2 => int_or_name(low_and_high[1], range.names)?,
            _ => return Err(format!("too many hyphens: {expression}")),
        };
        (start, end)
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = plain_int(range_and_step[1])?;
            if low_and_high.len() == 1 {
                end = range.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expression}")),
    };
    if start < range.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expression}",
            range.min
        ));
    }
    if end > range.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expression}",
            range.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expression}"
        ));
    }
    if step == 0 {
        return Err(format!(
            "step of range should be a positive number: {expression}"
        ));
    }
    Ok(())
}

fn int_or_name(text: &str, names: &[&str]) -> Result<u32, String> {
    let lower = text.to_lowercase();
    if let Some(index) = names.iter().position(|n| *n == lower) {
        let offset = if names.len() == MONTHS.len() { 1 } else { 0 };
        return u32::try_from(index + offset).map_err(|e| e.to_string());
    }
    plain_int(text)
}

fn plain_int(text: &str) -> Result<u32, String> {
    match text.parse::<i64>() {
        Ok(n) if n < 0 => Err(format!("negative number ({n}) not allowed: {text}")),
        Ok(n) => u32::try_from(n).map_err(|_| format!("failed to parse int from {text}: strconv.Atoi: parsing \"{text}\": value out of range")),
        Err(_) => Err(format!("failed to parse int from {text}: strconv.Atoi: parsing \"{text}\": invalid syntax")),
    }
}

/// Go's `time.ParseDuration` syntax: "1h30m", "90s", "1.5h".
fn is_go_duration(text: &str) -> bool {
    let mut rest = text.strip_prefix(['+', '-']).unwrap_or(text);
    if rest == "0" {
        return true;
    }
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return false;
        }
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        if !matches!(
            &rest[..unit_len],
            "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h"
        ) {
            return false;
        }
        rest = &rest[unit_len..];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        for good in [
            "*/5 * * * *",
            "0 0 1 jan-jun mon-fri",
            "@hourly",
            "@every 1h30m",
            "0 12 * * 0,6",
            "5/15 * * * *",
        ] {
            assert_eq!(parse_schedule(good), Ok(()), "{good}");
        }
        let cases = [
            ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
            ("61 * * * *", "end of range (61) above maximum (59): 61"),
            (
                "x * * * *",
                "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax",
            ),
            ("@sometimes", "unrecognized descriptor: @sometimes"),
            (
                "5-1 * * * *",
                "beginning of range (5) beyond end of range (1): 5-1",
            ),
            ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ];
        for (bad, message) in cases {
            assert_eq!(parse_schedule(bad), Err(message.to_string()), "{bad}");
        }
    }
}
