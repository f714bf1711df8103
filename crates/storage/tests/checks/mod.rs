//! The conformance checks, written once against `&dyn Backend` and run for every backend.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use storage::{
    Backend, EventKind, KeyValue, Precondition, RangeRequest, StorageError, WatchEvent, WatchStream,
};

const NS: &str = "/registry/configmaps/default/";

fn key(name: &str) -> String {
    format!("{NS}{name}")
}

async fn create(backend: &dyn Backend, name: &str, value: &str) -> KeyValue {
    backend
        .put(&key(name), value.into(), Precondition::MustNotExist, None)
        .await
        .expect("create")
}

fn prefix_range(prefix: &str) -> RangeRequest {
    RangeRequest {
        prefix: prefix.to_owned(),
        ..RangeRequest::default()
    }
}

fn names(kvs: &[KeyValue]) -> Vec<&str> {
    kvs.iter()
        .map(|kv| kv.key.rsplit('/').next().unwrap_or_default())
        .collect()
}

async fn next_events(stream: &mut WatchStream, n: usize) -> Vec<WatchEvent> {
    let mut events = Vec::with_capacity(n);
    while events.len() < n {
        let item = tokio::time::timeout(Duration::from_secs(15), stream.next())
            .await
            .unwrap_or_else(|_| panic!("timed out after {} of {n} events", events.len()))
            .expect("stream ended early");
        events.push(item.expect("watch event"));
    }
    events
}

async fn assert_quiet(stream: &mut WatchStream) {
    let extra = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    assert!(extra.is_err(), "unexpected extra watch item: {extra:?}");
}

pub async fn crud(backend: &dyn Backend) {
    let start = backend.current_revision().await.unwrap();
    let created = create(backend, "a", "v1").await;
    assert_eq!(created.key, key("a"));
    assert_eq!(created.value, b"v1");
    assert_eq!(created.version, 1);
    assert_eq!(created.create_revision, created.mod_revision);
    assert!(created.mod_revision > start);

    let (got, read_at) = backend.get(&key("a")).await.unwrap();
    assert_eq!(got.as_ref(), Some(&created));
    assert_eq!(read_at, created.mod_revision);

    // Refused writes change nothing, not even the revision.
    let again = backend
        .put(&key("a"), b"x".to_vec(), Precondition::MustNotExist, None)
        .await;
    assert!(
        matches!(again, Err(StorageError::AlreadyExists { .. })),
        "{again:?}"
    );
    let stale = backend
        .put(
            &key("a"),
            b"x".to_vec(),
            Precondition::ModRevision(created.mod_revision - 1),
            None,
        )
        .await;
    match stale {
        Err(StorageError::Conflict { key: k, current }) => {
            assert_eq!(k, key("a"));
            assert_eq!(current.as_deref(), Some(&created));
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    let missing = backend
        .put(
            &key("nope"),
            b"x".to_vec(),
            Precondition::ModRevision(created.mod_revision),
            None,
        )
        .await;
    assert!(
        matches!(missing, Err(StorageError::NotFound { .. })),
        "{missing:?}"
    );
    let missing_zero = backend
        .put(
            &key("nope"),
            b"x".to_vec(),
            Precondition::ModRevision(0),
            None,
        )
        .await;
    assert!(
        matches!(missing_zero, Err(StorageError::NotFound { .. })),
        "{missing_zero:?}"
    );
    assert_eq!(
        backend.current_revision().await.unwrap(),
        created.mod_revision
    );

    let updated = backend
        .put(
            &key("a"),
            b"v2".to_vec(),
            Precondition::ModRevision(created.mod_revision),
            None,
        )
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.create_revision, created.create_revision);
    assert_eq!(updated.mod_revision, created.mod_revision + 1);

    let blind = backend
        .put(&key("a"), b"v3".to_vec(), Precondition::None, None)
        .await
        .unwrap();
    assert_eq!(blind.version, 3);
    assert_eq!(blind.mod_revision, updated.mod_revision + 1);

    let stale_delete = backend
        .delete(&key("a"), Precondition::ModRevision(updated.mod_revision))
        .await;
    assert!(
        matches!(stale_delete, Err(StorageError::Conflict { .. })),
        "{stale_delete:?}"
    );
    let deleted = backend
        .delete(&key("a"), Precondition::ModRevision(blind.mod_revision))
        .await
        .unwrap();
    assert_eq!(deleted.value, b"v3");
    assert_eq!(deleted.create_revision, created.create_revision);
    assert_eq!(deleted.mod_revision, blind.mod_revision + 1);
    assert_eq!(
        backend.current_revision().await.unwrap(),
        deleted.mod_revision
    );

    assert_eq!(backend.get(&key("a")).await.unwrap().0, None);
    let gone = backend.delete(&key("a"), Precondition::None).await;
    assert!(
        matches!(gone, Err(StorageError::NotFound { .. })),
        "{gone:?}"
    );
    assert_eq!(
        backend.current_revision().await.unwrap(),
        deleted.mod_revision
    );

    let recreated = create(backend, "a", "again").await;
    assert_eq!(recreated.version, 1);
    assert_eq!(recreated.create_revision, deleted.mod_revision + 1);
    assert_eq!(recreated.mod_revision, recreated.create_revision);

    let unknown_lease = backend
        .put(
            &key("leased"),
            b"x".to_vec(),
            Precondition::None,
            Some(987_654_321),
        )
        .await;
    assert!(
        matches!(unknown_lease, Err(StorageError::LeaseNotFound(987_654_321))),
        "{unknown_lease:?}"
    );
}

pub async fn range_pagination(backend: &dyn Backend) {
    for name in ["c", "a", "e", "b", "d"] {
        create(backend, name, name).await;
    }
    // Neighbours that share a string prefix but are outside the namespace.
    backend
        .put(
            "/registry/configmaps/defaultx/z",
            b"z".to_vec(),
            Precondition::None,
            None,
        )
        .await
        .unwrap();
    backend
        .put(
            "/registry/configmaps/aaa/z",
            b"z".to_vec(),
            Precondition::None,
            None,
        )
        .await
        .unwrap();

    let all = backend.range(prefix_range(NS)).await.unwrap();
    assert_eq!(names(&all.kvs), ["a", "b", "c", "d", "e"]);
    assert_eq!(all.count, 5);
    assert!(!all.more);
    assert_eq!(all.revision, backend.current_revision().await.unwrap());

    let first = backend
        .range(RangeRequest {
            limit: 2,
            ..prefix_range(NS)
        })
        .await
        .unwrap();
    assert_eq!(names(&first.kvs), ["a", "b"]);
    assert!(first.more);
    assert_eq!(first.count, 5);

    let continue_from = format!("{}\0", first.kvs[1].key);
    let second = backend
        .range(RangeRequest {
            limit: 2,
            start_key: Some(continue_from),
            revision: first.revision,
            ..prefix_range(NS)
        })
        .await
        .unwrap();
    assert_eq!(names(&second.kvs), ["c", "d"]);
    assert!(second.more);
    assert_eq!(second.count, 5);
    assert_eq!(second.revision, first.revision);

    let last = backend
        .range(RangeRequest {
            limit: 2,
            start_key: Some(key("e")),
            revision: first.revision,
            ..prefix_range(NS)
        })
        .await
        .unwrap();
    assert_eq!(names(&last.kvs), ["e"]);
    assert!(!last.more);

    let counted = backend
        .range(RangeRequest {
            count_only: true,
            ..prefix_range(NS)
        })
        .await
        .unwrap();
    assert!(counted.kvs.is_empty());
    assert_eq!(counted.count, 5);

    let everything = backend.range(prefix_range("/registry/")).await.unwrap();
    assert_eq!(everything.count, 7);
    let whole_store = backend.range(prefix_range("")).await.unwrap();
    assert_eq!(whole_store.count, 7);
    assert_eq!(whole_store.kvs.len(), 7);
    let nothing = backend
        .range(prefix_range("/registry/secrets/"))
        .await
        .unwrap();
    assert_eq!(nothing.count, 0);
    assert!(nothing.kvs.is_empty());
}

pub async fn range_at_revision(backend: &dyn Backend) {
    let a1 = create(backend, "a", "a1").await;
    let b1 = create(backend, "b", "b1").await;
    let snapshot = b1.mod_revision;
    backend
        .put(&key("a"), b"a2".to_vec(), Precondition::None, None)
        .await
        .unwrap();
    backend.delete(&key("b"), Precondition::None).await.unwrap();
    create(backend, "c", "c1").await;
    let b_again = create(backend, "b", "b2").await;

    let then = backend
        .range(RangeRequest {
            revision: snapshot,
            ..prefix_range(NS)
        })
        .await
        .unwrap();
    assert_eq!(then.revision, snapshot);
    assert_eq!(then.count, 2);
    assert_eq!(then.kvs, vec![a1.clone(), b1.clone()]);

    let only_a = backend
        .range(RangeRequest {
            revision: a1.mod_revision,
            ..prefix_range(NS)
        })
        .await
        .unwrap();
    assert_eq!(only_a.kvs, vec![a1]);

    let paged = backend
        .range(RangeRequest {
            revision: snapshot,
            limit: 1,
            ..prefix_range(NS)
        })
        .await
        .unwrap();
    assert_eq!(names(&paged.kvs), ["a"]);
    assert!(paged.more);
    assert_eq!(paged.count, 2);

    let now = backend.range(prefix_range(NS)).await.unwrap();
    assert_eq!(names(&now.kvs), ["a", "b", "c"]);
    assert_eq!(now.kvs[1], b_again);
    assert_eq!(now.kvs[0].value, b"a2");

    let current = backend.current_revision().await.unwrap();
    let future = backend
        .range(RangeRequest {
            revision: current + 10,
            ..prefix_range(NS)
        })
        .await;
    match future {
        Err(StorageError::FutureRevision {
            requested,
            current: reported,
        }) => {
            assert_eq!(requested, current + 10);
            assert_eq!(reported, current);
        }
        other => panic!("expected FutureRevision, got {other:?}"),
    }
}

pub async fn watch_history_then_live(backend: &dyn Backend) {
    let before = create(backend, "before", "x").await;
    let a = create(backend, "a", "a1").await;
    let a2 = backend
        .put(
            &key("a"),
            b"a2".to_vec(),
            Precondition::ModRevision(a.mod_revision),
            None,
        )
        .await
        .unwrap();
    backend
        .put(
            "/registry/secrets/default/s",
            b"s".to_vec(),
            Precondition::None,
            None,
        )
        .await
        .unwrap();
    let deleted = backend.delete(&key("a"), Precondition::None).await.unwrap();

    let mut stream = backend.watch(NS, before.mod_revision).await.unwrap();
    let history = next_events(&mut stream, 3).await;
    assert_eq!(history[0].kind, EventKind::Put);
    assert_eq!(history[0].kv, a);
    assert_eq!(history[0].prev_kv, None);
    assert_eq!(history[1].kind, EventKind::Put);
    assert_eq!(history[1].kv, a2);
    assert_eq!(history[1].prev_kv.as_ref(), Some(&a));
    assert_eq!(history[2].kind, EventKind::Delete);
    assert_eq!(history[2].kv.key, key("a"));
    assert_eq!(history[2].kv.mod_revision, deleted.mod_revision);
    assert_eq!(history[2].kv.value, b"a2");
    assert_eq!(history[2].prev_kv.as_ref(), Some(&a2));

    // Live writes, concurrent with nothing else, arrive after the history without a gap.
    let mut written = Vec::new();
    for i in 0..20 {
        written.push(
            create(backend, &format!("live-{i:02}"), "v")
                .await
                .mod_revision,
        );
        if i % 5 == 0 {
            backend
                .put(
                    "/registry/secrets/default/s",
                    b"s".to_vec(),
                    Precondition::None,
                    None,
                )
                .await
                .unwrap();
        }
    }
    let live = next_events(&mut stream, 20).await;
    let revisions: Vec<_> = live.iter().map(|event| event.kv.mod_revision).collect();
    assert_eq!(revisions, written);
    assert!(live
        .iter()
        .all(|event| event.kind == EventKind::Put && event.kv.key.starts_with(NS)));
    assert_quiet(&mut stream).await;

    // A second watcher from the middle of the history gets exactly the tail.
    let mut tail = backend.watch(NS, a2.mod_revision).await.unwrap();
    let events = next_events(&mut tail, 21).await;
    assert_eq!(events[0].kind, EventKind::Delete);
    let tail_revisions: Vec<_> = events[1..]
        .iter()
        .map(|event| event.kv.mod_revision)
        .collect();
    assert_eq!(tail_revisions, written);
    assert_quiet(&mut tail).await;
}

/// Writes racing with the watch start: every event exactly once, in order.
pub async fn watch_while_writing(backend: Arc<dyn Backend>) {
    let start = backend.current_revision().await.unwrap();
    let writer = {
        let backend = Arc::clone(&backend);
        tokio::spawn(async move {
            let mut revisions = Vec::new();
            for i in 0..200 {
                let kv = backend
                    .put(
                        &key(&format!("k{i:03}")),
                        b"v".to_vec(),
                        Precondition::None,
                        None,
                    )
                    .await
                    .unwrap();
                revisions.push(kv.mod_revision);
            }
            revisions
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut stream = backend.watch(NS, start).await.unwrap();
    let written = writer.await.unwrap();
    let events = next_events(&mut stream, written.len()).await;
    let seen: Vec<_> = events.iter().map(|event| event.kv.mod_revision).collect();
    assert_eq!(seen, written);
    assert_quiet(&mut stream).await;
}

pub async fn compaction(backend: &dyn Backend) {
    let a1 = create(backend, "a", "a1").await;
    let a2 = backend
        .put(&key("a"), b"a2".to_vec(), Precondition::None, None)
        .await
        .unwrap();
    let b = create(backend, "b", "b").await;
    backend.delete(&key("b"), Precondition::None).await.unwrap();
    let c = create(backend, "c", "c").await;
    let at = c.mod_revision;
    let a3 = backend
        .put(&key("a"), b"a3".to_vec(), Precondition::None, None)
        .await
        .unwrap();

    backend.compact(at).await.unwrap();

    let old = backend
        .range(RangeRequest {
            revision: a2.mod_revision,
            ..prefix_range(NS)
        })
        .await;
    assert!(
        matches!(old, Err(StorageError::Compacted { .. })),
        "{old:?}"
    );
    let at_compaction = backend
        .range(RangeRequest {
            revision: at,
            ..prefix_range(NS)
        })
        .await
        .unwrap();
    assert_eq!(names(&at_compaction.kvs), ["a", "c"]);
    assert_eq!(at_compaction.kvs[0], a2);
    let latest = backend.range(prefix_range(NS)).await.unwrap();
    assert_eq!(latest.kvs[0], a3);

    expect_watch_compacted(backend, a1.mod_revision).await;
    expect_watch_compacted(backend, b.mod_revision).await;
    // Watching from just before the compacted revision still works: it is kept.
    let mut from_compaction = backend.watch(NS, at).await.unwrap();
    let events = next_events(&mut from_compaction, 1).await;
    assert_eq!(events[0].kv, a3);

    let repeated = backend.compact(at).await;
    assert!(
        matches!(repeated, Err(StorageError::Compacted { .. })),
        "{repeated:?}"
    );
    let current = backend.current_revision().await.unwrap();
    let future = backend.compact(current + 5).await;
    assert!(
        matches!(future, Err(StorageError::FutureRevision { .. })),
        "{future:?}"
    );
}

async fn expect_watch_compacted(backend: &dyn Backend, after: i64) {
    match backend.watch(NS, after).await {
        Err(StorageError::Compacted { .. }) => {}
        Err(other) => panic!("expected Compacted, got {other:?}"),
        Ok(mut stream) => {
            let item = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("compacted watch must fail promptly");
            assert!(
                matches!(item, Some(Err(StorageError::Compacted { .. }))),
                "expected Compacted, got {item:?}"
            );
        }
    }
}

pub async fn lease_expiry(backend: &dyn Backend) {
    // etcd enforces a minimum TTL of about 2 s with default timing flags; 2 works everywhere.
    let lease = backend.grant_lease(2).await.unwrap();
    let start = backend.current_revision().await.unwrap();
    let leased = backend
        .put(
            &key("event-1"),
            b"e".to_vec(),
            Precondition::MustNotExist,
            Some(lease),
        )
        .await
        .unwrap();
    assert_eq!(leased.lease, lease);
    let kept = create(backend, "kept", "k").await;
    let mut stream = backend.watch(NS, start).await.unwrap();
    let events = next_events(&mut stream, 3).await;
    assert_eq!(events[0].kv, leased);
    assert_eq!(events[1].kv, kept);
    assert_eq!(events[2].kind, EventKind::Delete);
    assert_eq!(events[2].kv.key, key("event-1"));
    assert_eq!(events[2].kv.value, b"e");
    assert_eq!(events[2].prev_kv.as_ref(), Some(&leased));
    assert_eq!(backend.get(&key("event-1")).await.unwrap().0, None);
    assert_eq!(backend.get(&key("kept")).await.unwrap().0, Some(kept));
    // The expired lease is gone.
    let reuse = backend
        .put(
            &key("event-2"),
            b"e".to_vec(),
            Precondition::None,
            Some(lease),
        )
        .await;
    assert!(
        matches!(reuse, Err(StorageError::LeaseNotFound(_))),
        "{reuse:?}"
    );
}

pub async fn concurrent_writers(backend: Arc<dyn Backend>) {
    const WRITERS: usize = 64;
    const EACH: usize = 50;
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let backend = Arc::clone(&backend);
            tokio::spawn(async move {
                let mut revisions = Vec::with_capacity(EACH);
                for i in 0..EACH {
                    let kv = backend
                        .put(
                            &key(&format!("w{writer:02}-{i:02}")),
                            b"v".to_vec(),
                            Precondition::MustNotExist,
                            None,
                        )
                        .await
                        .unwrap();
                    assert_eq!(kv.version, 1);
                    revisions.push(kv.mod_revision);
                }
                revisions
            })
        })
        .collect();
    let mut revisions = HashSet::new();
    for task in tasks {
        for revision in task.await.unwrap() {
            assert!(
                revisions.insert(revision),
                "revision {revision} given twice"
            );
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "{} concurrent creates in {elapsed:?} ({:.0}/s)",
        WRITERS * EACH,
        (WRITERS * EACH) as f64 / elapsed.as_secs_f64()
    );
    let all = backend.range(prefix_range(NS)).await.unwrap();
    assert_eq!(all.count, (WRITERS * EACH) as i64);
    let max = revisions.iter().max().copied().unwrap();
    assert_eq!(backend.current_revision().await.unwrap(), max);
}
