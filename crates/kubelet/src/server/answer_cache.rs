//! The API server's answers about callers (token reviews, access reviews), remembered for as
//! long as each answer may be trusted, as upstream's webhook caches: a bounded map whose entries
//! expire after a time that depends on the answer.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Answers kept at most; expired ones go first, then all.
const LIMIT: usize = 4096;

pub struct AnswerCache<K, V> {
    /// How long an answer may be trusted.
    ttl: fn(&V) -> Duration,
    answers: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> AnswerCache<K, V> {
    pub fn new(ttl: fn(&V) -> Duration) -> Self {
        Self {
            ttl,
            answers: Mutex::default(),
        }
    }

    /// The answer for `key`, while it has not expired.
    pub fn get(&self, key: &K) -> Option<V> {
        let answers = self.answers.lock().ok()?;
        let (answer, at) = answers.get(key)?;
        (at.elapsed() < (self.ttl)(answer)).then(|| answer.clone())
    }

    pub fn insert(&self, key: K, answer: V) {
        let Ok(mut answers) = self.answers.lock() else {
            return;
        };
        if answers.len() >= LIMIT {
            let ttl = self.ttl;
            answers.retain(|_, (answer, at)| at.elapsed() < ttl(answer));
            if answers.len() >= LIMIT {
                answers.clear();
            }
        }
        answers.insert(key, (answer, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_answer_lives_as_long_as_its_kind_may() {
        let cache: AnswerCache<&str, bool> = AnswerCache::new(|allowed| {
            if *allowed {
                Duration::from_secs(300)
            } else {
                Duration::ZERO
            }
        });
        cache.insert("alice", true);
        cache.insert("mallory", false);
        assert_eq!(cache.get(&"alice"), Some(true));
        assert_eq!(cache.get(&"mallory"), None);
        assert_eq!(cache.get(&"nobody"), None);
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache: AnswerCache<usize, ()> = AnswerCache::new(|_| Duration::from_secs(60));
        for key in 0..=LIMIT {
            cache.insert(key, ());
        }
        assert_eq!(cache.get(&LIMIT), Some(()));
        assert!(cache.answers.lock().unwrap().len() <= LIMIT);
    }
}
