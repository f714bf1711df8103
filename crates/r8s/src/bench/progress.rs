//! A one-line progress bar on stderr.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Progress {
    label: String,
    total: usize,
    done: AtomicUsize,
}

impl Progress {
    pub fn new(label: &str, total: usize) -> Self {
        Self {
            label: label.to_string(),
            total,
            done: AtomicUsize::new(0),
        }
    }

    pub fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let step = (self.total / 50).max(1);
        if done.is_multiple_of(step) || done == self.total {
            let width = 30;
            let filled = done * width / self.total.max(1);
            let _ = write!(
                std::io::stderr(),
                "\r{:<28} [{}{}] {done}/{}",
                self.label,
                "#".repeat(filled),
                " ".repeat(width - filled),
                self.total
            );
            if done == self.total {
                let _ = writeln!(std::io::stderr());
            }
        }
    }
}
