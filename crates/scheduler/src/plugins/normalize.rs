//! Upstream's `helper.DefaultNormalizeScore`: scale to 0..=max by the highest score,
//! optionally reversed.

pub fn default_normalize(max_priority: i64, reverse: bool, scores: &mut [i64]) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max_priority);
        }
        return;
    }
    for score in scores.iter_mut() {
        *score = max_priority * *score / max;
        if reverse {
            *score = max_priority - *score;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_reverses() {
        let mut s = vec![0, 5, 10];
        default_normalize(100, false, &mut s);
        assert_eq!(s, vec![0, 50, 100]);
        let mut s = vec![0, 0];
        default_normalize(100, true, &mut s);
        assert_eq!(s, vec![100, 100]);
    }
}
