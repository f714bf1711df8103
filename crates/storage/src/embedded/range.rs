//! Reads straight from a redb read transaction, without going through the writer.

use redb::{Database, ReadableDatabase};

use super::current;
use super::record::{decode_history, HistoryEntry};
use super::tables::{read_counters, CURRENT, HISTORY, META};
use crate::{KeyValue, RangeRequest, RangeResponse, Revision, StorageError};

pub(crate) fn get(db: &Database, key: &str) -> Result<(Option<KeyValue>, Revision), StorageError> {
    let txn = db.begin_read().map_err(StorageError::backend)?;
    let counters = read_counters(&txn.open_table(META).map_err(StorageError::backend)?)?;
    let current = txn.open_table(CURRENT).map_err(StorageError::backend)?;
    let history = txn.open_table(HISTORY).map_err(StorageError::backend)?;
    let kv = match current.get(key).map_err(StorageError::backend)? {
        Some(bytes) => Some(current::resolve(key, bytes.value(), &history)?),
        None => None,
    };
    Ok((kv, counters.revision))
}

pub(crate) fn range(db: &Database, request: &RangeRequest) -> Result<RangeResponse, StorageError> {
    let txn = db.begin_read().map_err(StorageError::backend)?;
    let counters = read_counters(&txn.open_table(META).map_err(StorageError::backend)?)?;
    if request.revision > counters.revision {
        return Err(StorageError::FutureRevision {
            requested: request.revision,
            current: counters.revision,
        });
    }
    if request.revision != 0 && request.revision < counters.compacted {
        return Err(StorageError::Compacted {
            requested: request.revision,
            compacted: counters.compacted,
        });
    }
    let served_at = if request.revision == 0 {
        counters.revision
    } else {
        request.revision
    };
    let mut page = Page::new(request);
    if served_at == counters.revision {
        let current = txn.open_table(CURRENT).map_err(StorageError::backend)?;
        let history = txn.open_table(HISTORY).map_err(StorageError::backend)?;
        for entry in current
            .range(request.prefix.as_str()..)
            .map_err(StorageError::backend)?
        {
            let (key, bytes) = entry.map_err(StorageError::backend)?;
            let key = key.value();
            if !key.starts_with(&request.prefix) {
                break;
            }
            page.offer(key, || current::resolve(key, bytes.value(), &history))?;
        }
    } else {
        let history = txn.open_table(HISTORY).map_err(StorageError::backend)?;
        // Versions of a key are adjacent and ascending; the last one at or below `served_at` is
        // what the key looked like then.
        let mut visible: Option<(String, Vec<u8>)> = None;
        for entry in history
            .range((request.prefix.as_str(), i64::MIN)..)
            .map_err(StorageError::backend)?
        {
            let (id, bytes) = entry.map_err(StorageError::backend)?;
            let (key, revision) = id.value();
            if !key.starts_with(&request.prefix) {
                break;
            }
            if visible.as_ref().is_some_and(|(seen, _)| seen != key) {
                offer_history(&mut page, visible.take())?;
            }
            if revision <= served_at {
                visible = Some((key.to_owned(), bytes.value().to_vec()));
            }
        }
        offer_history(&mut page, visible)?;
    }
    Ok(page.into_response(served_at))
}

fn offer_history(
    page: &mut Page<'_>,
    visible: Option<(String, Vec<u8>)>,
) -> Result<(), StorageError> {
    let Some((key, bytes)) = visible else {
        return Ok(());
    };
    match decode_history(&key, &bytes)? {
        HistoryEntry::Put(kv) => page.offer(&key, || Ok(kv)),
        HistoryEntry::Tombstone => Ok(()),
    }
}

/// Accumulates one page of a range: counts every matching key, keeps those from `start_key` on up
/// to `limit`, and notes whether more follow.
struct Page<'r> {
    request: &'r RangeRequest,
    kvs: Vec<KeyValue>,
    count: i64,
    more: bool,
}

impl<'r> Page<'r> {
    fn new(request: &'r RangeRequest) -> Self {
        Self {
            request,
            kvs: Vec::new(),
            count: 0,
            more: false,
        }
    }

    fn offer(
        &mut self,
        key: &str,
        decode: impl FnOnce() -> Result<KeyValue, StorageError>,
    ) -> Result<(), StorageError> {
        self.count += 1;
        if self.request.count_only {
            return Ok(());
        }
        if let Some(start) = &self.request.start_key {
            if key < start.as_str() {
                return Ok(());
            }
        }
        let full = self.request.limit > 0 && self.kvs.len() as i64 >= self.request.limit;
        if full {
            self.more = true;
        } else {
            self.kvs.push(decode()?);
        }
        Ok(())
    }

    fn into_response(self, revision: Revision) -> RangeResponse {
        RangeResponse {
            kvs: self.kvs,
            more: self.more,
            count: self.count,
            revision,
        }
    }
}
