//! A binary heap ordered by a comparison function (the QueueSort plugin).

pub struct Heap<T> {
    items: Vec<T>,
}

impl<T> Default for Heap<T> {
    fn default() -> Self {
        Heap { items: Vec::new() }
    }
}

impl<T> Heap<T> {
    /// `less(a, b)`: `a` pops before `b`.
    pub fn push(&mut self, item: T, less: &dyn Fn(&T, &T) -> bool) {
        self.items.push(item);
        let mut i = self.items.len() - 1;
        while i > 0 {
            let parent = (i - 1) / 2;
            if !less(&self.items[i], &self.items[parent]) {
                break;
            }
            self.items.swap(i, parent);
            i = parent;
        }
    }

    pub fn pop(&mut self, less: &dyn Fn(&T, &T) -> bool) -> Option<T> {
        if self.items.is_empty() {
            return None;
        }
        let last = self.items.len() - 1;
        self.items.swap(0, last);
        let top = self.items.pop();
        let len = self.items.len();
        let mut i = 0;
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut best = i;
            if l < len && less(&self.items[l], &self.items[best]) {
                best = l;
            }
            if r < len && less(&self.items[r], &self.items[best]) {
                best = r;
            }
            if best == i {
                break;
            }
            self.items.swap(i, best);
            i = best;
        }
        top
    }

    pub fn peek(&self) -> Option<&T> {
        self.items.first()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_order() {
        let mut heap = Heap::default();
        let less = |a: &i32, b: &i32| a < b;
        for x in [5, 1, 4, 2, 3, 0] {
            heap.push(x, &less);
        }
        let out: Vec<i32> = std::iter::from_fn(|| heap.pop(&less)).collect();
        assert_eq!(out, vec![0, 1, 2, 3, 4, 5]);
    }
}
