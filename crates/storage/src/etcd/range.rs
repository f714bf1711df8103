//! Ranges over a key prefix.

use etcd_client::{Client, GetOptions};

use super::convert::{header_revision, key_value, ErrorContext};
use crate::{RangeRequest, RangeResponse, Revision, StorageError};

/// The smallest key greater than every key starting with `prefix` (etcd's range_end for a prefix):
/// the prefix with its last byte below 0xff incremented and everything after it dropped. A prefix
/// of only 0xff bytes (or empty) has no such key; `\0` tells etcd "to the end of the keyspace".
pub(super) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// The first key of a prefix range. etcd rejects an empty key, so the empty prefix (everything)
/// starts at the smallest non-empty key instead.
pub(super) fn prefix_start(prefix: &str) -> &str {
    if prefix.is_empty() {
        "\0"
    } else {
        prefix
    }
}

pub(super) async fn range(
    client: &Client,
    request: &RangeRequest,
    compacted: Revision,
) -> Result<RangeResponse, StorageError> {
    let context = ErrorContext {
        revision: request.revision,
        compacted,
        ..ErrorContext::default()
    };
    let end = prefix_end(request.prefix.as_bytes());
    // A start key below the prefix would widen the range beyond the prefix.
    let start = match &request.start_key {
        Some(start) if start.as_str() > request.prefix.as_str() => start.as_str(),
        _ => prefix_start(&request.prefix),
    };
    let mut options = GetOptions::new()
        .with_range(end.clone())
        .with_revision(request.revision)
        .with_limit(request.limit);
    if request.count_only {
        options = options.with_count_only();
    }
    let response = client
        .clone()
        .get(start, Some(options))
        .await
        .map_err(|error| context.map(error))?;
    let header = header_revision(response.header())?;
    let served_at = if request.revision == 0 {
        header
    } else {
        request.revision
    };
    let kvs = response
        .kvs()
        .iter()
        .map(key_value)
        .collect::<Result<Vec<_>, _>>()?;
    let mut count = response.count();
    if start != prefix_start(&request.prefix) {
        // etcd counts only from the start key; the contract wants the whole prefix, at the same
        // revision.
        let whole = client
            .clone()
            .get(
                prefix_start(&request.prefix),
                Some(
                    GetOptions::new()
                        .with_range(end)
                        .with_revision(served_at)
                        .with_count_only(),
                ),
            )
            .await
            .map_err(|error| context.map(error))?;
        count = whole.count();
    }
    Ok(RangeResponse {
        kvs,
        more: response.more(),
        count,
        revision: served_at,
    })
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_end_increments_last_byte() {
        assert_eq!(prefix_end(b"/registry/pods/"), b"/registry/pods0".to_vec());
        assert_eq!(prefix_end(b"a\xff\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b""), vec![0]);
        assert_eq!(prefix_end(b"\xff"), vec![0]);
    }
}
