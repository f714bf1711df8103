//! Completion indexes and their compressed text form ("1,3-5,7") used by `status.completedIndexes`.

use std::collections::BTreeSet;

pub fn parse_index_ranges(text: &str) -> BTreeSet<i32> {
    let mut indexes = BTreeSet::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((first, last)) => {
                if let (Ok(first), Ok(last)) = (first.parse::<i32>(), last.parse::<i32>()) {
                    indexes.extend(first..=last);
                }
            }
            None => {
                if let Ok(index) = part.parse() {
                    indexes.insert(index);
                }
            }
        }
    }
    indexes
}

pub fn format_index_ranges(indexes: &BTreeSet<i32>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut run: Option<(i32, i32)> = None;
    for &index in indexes {
        run = match run {
            Some((first, last)) if index == last + 1 => Some((first, index)),
            Some(finished) => {
                parts.push(format_run(finished));
                Some((index, index))
            }
            None => Some((index, index)),
        };
    }
    if let Some(finished) = run {
        parts.push(format_run(finished));
    }
    parts.join(",")
}

fn format_run((first, last): (i32, i32)) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first}-{last}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_round_trip() {
        let indexes = parse_index_ranges("1,3-5,7");
        assert_eq!(
            indexes.iter().copied().collect::<Vec<_>>(),
            vec![1, 3, 4, 5, 7]
        );
        assert_eq!(format_index_ranges(&indexes), "1,3-5,7");
        assert_eq!(format_index_ranges(&BTreeSet::new()), "");
        assert_eq!(format_index_ranges(&[0, 1].into_iter().collect()), "0-1");
    }
}
