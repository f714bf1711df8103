//! One conformance suite for every backend: each check in `checks` runs once against a fresh
//! embedded store and once against a fresh etcd process.

mod checks;
mod support;

macro_rules! conformance {
    (borrowed: [$($check:ident),* $(,)?], shared: [$($shared:ident),* $(,)?]) => {
        mod embedded {
            use std::sync::Arc;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let fixture = crate::support::EmbeddedFixture::start().await;
                    crate::checks::$check(fixture.backend()).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $shared() {
                    let dir = tempfile::tempdir().unwrap();
                    let backend = storage::embedded::EmbeddedBackend::open(
                        crate::support::db_path(dir.path()),
                    )
                    .await
                    .unwrap();
                    crate::checks::$shared(Arc::new(backend)).await;
                }
            )*
        }
        mod etcd {
            use std::sync::Arc;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let fixture = crate::support::EtcdFixture::start().await;
                    crate::checks::$check(fixture.backend()).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $shared() {
                    let fixture = crate::support::EtcdFixture::start().await;
                    let backend = storage::etcd::EtcdBackend::connect(vec![fixture.endpoint()])
                        .await
                        .unwrap();
                    crate::checks::$shared(Arc::new(backend)).await;
                }
            )*
        }
    };
}

conformance!(
    borrowed: [
        crud,
        range_pagination,
        range_at_revision,
        watch_history_then_live,
        compaction,
        lease_expiry,
    ],
    shared: [watch_while_writing, concurrent_writers]
);
