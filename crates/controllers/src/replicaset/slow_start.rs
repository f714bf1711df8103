//! Creating many pods in growing batches (1, 2, 4, ...) so that a failing template fails fast.

use std::future::Future;

/// The batch sizes for `total` creations starting at `initial`: each batch doubles the last.
pub fn slow_start_batches(total: usize, initial: usize) -> Vec<usize> {
    let mut batches = Vec::new();
    let mut remaining = total;
    let mut size = initial.max(1);
    while remaining > 0 {
        let batch = size.min(remaining);
        batches.push(batch);
        remaining -= batch;
        size = size.saturating_mul(2);
    }
    batches
}

/// Run `create` `total` times in slow-start batches; stop after the first batch with a failure.
/// Returns the successes and the first error.
pub async fn create_in_batches<T, E, F, Fut>(total: usize, create: F) -> (Vec<T>, Option<E>)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut created = Vec::new();
    for batch in slow_start_batches(total, 1) {
        let results = futures::future::join_all((0..batch).map(|_| create())).await;
        let mut first_error = None;
        for result in results {
            match result {
                Ok(value) => created.push(value),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        if first_error.is_some() {
            return (created, first_error);
        }
    }
    (created, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn batches_double_until_everything_is_created() {
        assert_eq!(slow_start_batches(0, 1), Vec::<usize>::new());
        assert_eq!(slow_start_batches(1, 1), [1]);
        assert_eq!(slow_start_batches(10, 1), [1, 2, 4, 3]);
        assert_eq!(slow_start_batches(15, 1), [1, 2, 4, 8]);
    }

    #[tokio::test]
    async fn a_failing_batch_stops_the_rest() {
        let calls = AtomicUsize::new(0);
        let (created, error) = create_in_batches(10, || {
            let call = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if call >= 2 {
                    Err("quota")
                } else {
                    Ok(call)
                }
            }
        })
        .await;
        assert_eq!(created.len(), 2);
        assert_eq!(error, Some("quota"));
        // Batches 1 and 2 ran (3 calls); the batch of 4 never started.
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
