//! Watches as etcd watch streams with prev_kv, from `after_revision + 1`.

use std::collections::VecDeque;

use etcd_client::{Client, EventType, WatchOptions, WatchResponse};
use futures::StreamExt;

use super::convert::{key_value, ErrorContext};
use super::range::{prefix_end, prefix_start};
use crate::{EventKind, Revision, StorageError, WatchEvent, WatchStream};

struct Watch {
    /// Owns the request side too: dropping it closes the gRPC stream and cancels the watch.
    inner: etcd_client::WatchStream,
    start_revision: Revision,
    ready: VecDeque<WatchEvent>,
    ended: bool,
}

pub(super) async fn watch(
    client: &Client,
    prefix: &str,
    after_revision: Revision,
) -> Result<WatchStream, StorageError> {
    let start_revision = after_revision.saturating_add(1);
    let options = WatchOptions::new()
        .with_range(prefix_end(prefix.as_bytes()))
        .with_start_revision(start_revision)
        .with_prev_key();
    let context = ErrorContext {
        revision: start_revision,
        ..ErrorContext::default()
    };
    let inner = client
        .clone()
        .watch(prefix_start(prefix), Some(options))
        .await
        .map_err(|error| context.map(error))?;
    let mut watch = Watch {
        inner,
        start_revision,
        ready: VecDeque::new(),
        ended: false,
    };
    watch.confirm().await?;
    Ok(Box::pin(futures::stream::unfold(
        watch,
        |mut watch| async move {
            let item = watch.next().await?;
            Some((item, watch))
        },
    )))
}

impl Watch {
    /// Waits for etcd's first response ("created"), so that a watch etcd refuses fails here.
    /// A start revision that is compacted away may still be reported by the next response.
    async fn confirm(&mut self) -> Result<(), StorageError> {
        match self.inner.next().await {
            None => Err(StorageError::Backend(
                "etcd closed the watch at creation".into(),
            )),
            Some(Err(error)) => Err(self.context().map(error)),
            Some(Ok(response)) => self.absorb(response),
        }
    }

    fn context(&self) -> ErrorContext {
        ErrorContext {
            revision: self.start_revision,
            ..ErrorContext::default()
        }
    }

    async fn next(&mut self) -> Option<Result<WatchEvent, StorageError>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(Ok(event));
            }
            if self.ended {
                return None;
            }
            let response = match self.inner.next().await {
                None => {
                    self.ended = true;
                    return None;
                }
                Some(Err(error)) => Err(self.context().map(error)),
                Some(Ok(response)) => self.absorb(response),
            };
            if let Err(error) = response {
                self.ended = true;
                return Some(Err(error));
            }
        }
    }

    fn absorb(&mut self, response: WatchResponse) -> Result<(), StorageError> {
        if response.compact_revision() > 0 {
            return Err(StorageError::Compacted {
                requested: self.start_revision,
                compacted: response.compact_revision(),
            });
        }
        if response.canceled() {
            return Err(StorageError::Backend(format!(
                "etcd canceled the watch: {}",
                response.cancel_reason()
            )));
        }
        for event in response.events() {
            self.ready.push_back(convert_event(event)?);
        }
        Ok(())
    }
}

fn convert_event(event: &etcd_client::Event) -> Result<WatchEvent, StorageError> {
    let kv = event
        .kv()
        .map(key_value)
        .transpose()?
        .ok_or_else(|| StorageError::Backend("etcd watch event without key".into()))?;
    let prev_kv = event.prev_kv().map(key_value).transpose()?;
    Ok(match event.event_type() {
        EventType::Put => WatchEvent {
            kind: EventKind::Put,
            kv,
            prev_kv,
        },
        // etcd's delete event carries an empty value; report the object as it was before, with
        // the deletion revision, like `Backend::delete` does.
        EventType::Delete => WatchEvent {
            kind: EventKind::Delete,
            kv: match &prev_kv {
                Some(prev) => crate::KeyValue {
                    mod_revision: kv.mod_revision,
                    ..prev.clone()
                },
                None => kv,
            },
            prev_kv,
        },
    })
}
