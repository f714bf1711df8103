//! Byte layout of the values stored in the redb tables.
//!
//! A hand-rolled little-endian layout keeps the crate free of a serialization dependency and makes
//! the on-disk format explicit. Every record starts with a format tag so it can evolve later.

use crate::{EventKind, KeyValue, Revision, StorageError, WatchEvent};

const KV_FORMAT: u8 = 1;
/// `current` records of the first format were whole key values (`KV_FORMAT`); they now name the
/// revision of the key's latest version, whose value is in the history table.
const CURRENT_AT_REVISION: u8 = 2;
/// Event records of the first format carried the whole key value and its previous value.
const EVENT_PUT: u8 = 1;
const EVENT_DELETE: u8 = 2;
/// Event records now name the key only: its versions are in the history table.
const EVENT_PUT_REF: u8 = 3;
const EVENT_DELETE_REF: u8 = 4;
const HISTORY_PUT: u8 = 1;
const HISTORY_TOMBSTONE: u8 = 2;

/// One entry of a key's history: the key as written at that revision, or its deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HistoryEntry {
    Put(KeyValue),
    Tombstone,
}

/// A record of the `current` table: the latest version itself (first format), or the revision
/// under which the history table holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CurrentEntry {
    Whole(KeyValue),
    At(Revision),
}

/// The `current` record of a key whose latest version was written at `mod_revision`.
pub(crate) fn encode_current_reference(mod_revision: Revision) -> [u8; 9] {
    let mut out = [0u8; 9];
    out[0] = CURRENT_AT_REVISION;
    out[1..].copy_from_slice(&mod_revision.to_le_bytes());
    out
}

pub(crate) fn decode_current(key: &str, bytes: &[u8]) -> Result<CurrentEntry, StorageError> {
    let mut reader = Reader { bytes };
    match bytes.first() {
        Some(&CURRENT_AT_REVISION) => {
            reader.u8()?;
            Ok(CurrentEntry::At(reader.i64()?))
        }
        _ => Ok(CurrentEntry::Whole(read_kv(&mut reader, key.to_owned())?)),
    }
}

/// A key's metadata and value as the first format of `current` stored it (tests build old stores).
#[cfg(test)]
pub(crate) fn encode_kv(kv: &KeyValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + 32 + kv.value.len());
    push_kv(&mut out, kv);
    out
}

pub(crate) fn decode_kv(key: &str, bytes: &[u8]) -> Result<KeyValue, StorageError> {
    let mut reader = Reader { bytes };
    read_kv(&mut reader, key.to_owned())
}

pub(crate) fn encode_history(entry: &HistoryEntry) -> Vec<u8> {
    match entry {
        HistoryEntry::Put(kv) => encode_history_put(kv),
        HistoryEntry::Tombstone => vec![HISTORY_TOMBSTONE],
    }
}

pub(crate) fn encode_history_put(kv: &KeyValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + 32 + kv.value.len());
    out.push(HISTORY_PUT);
    push_kv(&mut out, kv);
    out
}

pub(crate) fn decode_history(key: &str, bytes: &[u8]) -> Result<HistoryEntry, StorageError> {
    match bytes.split_first() {
        Some((&HISTORY_PUT, rest)) => Ok(HistoryEntry::Put(decode_kv(key, rest)?)),
        Some((&HISTORY_TOMBSTONE, _)) => Ok(HistoryEntry::Tombstone),
        _ => Err(corrupt("history entry")),
    }
}

/// True for a history record that marks a deletion, without decoding the value.
pub(crate) fn is_tombstone(bytes: &[u8]) -> bool {
    bytes.first() == Some(&HISTORY_TOMBSTONE)
}

/// An event of the log as stored: either whole (records of the first format), or the kind and
/// key of a write whose versions are read from the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LoggedEvent {
    Whole(WatchEvent),
    Reference { kind: EventKind, key: String },
}

/// The log record of a write at some revision: what happened to which key. The value written
/// (and, for the event's previous value, the version before it) is in the history table, so a
/// write stores its value twice (current and history) instead of four times.
pub(crate) fn encode_event_reference(kind: EventKind, key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + key.len());
    out.push(match kind {
        EventKind::Put => EVENT_PUT_REF,
        EventKind::Delete => EVENT_DELETE_REF,
    });
    out.extend_from_slice(key.as_bytes());
    out
}

/// A whole event in the first format, as earlier versions wrote them (tests build old logs).
#[cfg(test)]
pub(crate) fn encode_whole_event(event: &WatchEvent) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + event.kv.value.len() * 2);
    out.push(match event.kind {
        EventKind::Put => EVENT_PUT,
        EventKind::Delete => EVENT_DELETE,
    });
    push_bytes(&mut out, event.kv.key.as_bytes());
    let mut kv = Vec::new();
    push_kv(&mut kv, &event.kv);
    push_bytes(&mut out, &kv);
    if let Some(prev) = &event.prev_kv {
        let mut prev_bytes = Vec::new();
        push_kv(&mut prev_bytes, prev);
        push_bytes(&mut out, &prev_bytes);
    }
    out
}

pub(crate) fn decode_event(bytes: &[u8]) -> Result<LoggedEvent, StorageError> {
    let mut reader = Reader { bytes };
    let kind = match reader.u8()? {
        EVENT_PUT => EventKind::Put,
        EVENT_DELETE => EventKind::Delete,
        EVENT_PUT_REF => return reference(EventKind::Put, reader.bytes),
        EVENT_DELETE_REF => return reference(EventKind::Delete, reader.bytes),
        _ => return Err(corrupt("event kind")),
    };
    let key =
        String::from_utf8(reader.length_prefixed()?.to_vec()).map_err(|_| corrupt("event key"))?;
    let kv_bytes = reader.length_prefixed()?;
    let kv = decode_kv(&key, kv_bytes)?;
    let prev_kv = if reader.bytes.is_empty() {
        None
    } else {
        Some(decode_kv(&key, reader.length_prefixed()?)?)
    };
    Ok(LoggedEvent::Whole(WatchEvent { kind, kv, prev_kv }))
}

fn reference(kind: EventKind, key: &[u8]) -> Result<LoggedEvent, StorageError> {
    let key = String::from_utf8(key.to_vec()).map_err(|_| corrupt("event key"))?;
    Ok(LoggedEvent::Reference { kind, key })
}

impl LoggedEvent {
    pub(crate) fn key(&self) -> &str {
        match self {
            Self::Whole(event) => &event.kv.key,
            Self::Reference { key, .. } => key,
        }
    }
}

fn push_kv(out: &mut Vec<u8>, kv: &KeyValue) {
    out.push(KV_FORMAT);
    for field in [kv.create_revision, kv.mod_revision, kv.version, kv.lease] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&kv.value);
}

fn read_kv(reader: &mut Reader<'_>, key: String) -> Result<KeyValue, StorageError> {
    if reader.u8()? != KV_FORMAT {
        return Err(corrupt("key value format"));
    }
    let create_revision = reader.i64()?;
    let mod_revision = reader.i64()?;
    let version = reader.i64()?;
    let lease = reader.i64()?;
    Ok(KeyValue {
        key,
        value: reader.bytes.to_vec(),
        create_revision,
        mod_revision,
        version,
        lease,
    })
}

#[cfg(test)]
fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Keys and values are far below 4 GiB (etcd caps requests at 1.5 MiB).
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Backend(format!("corrupt {what} in embedded store"))
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StorageError> {
        if self.bytes.len() < n {
            return Err(corrupt("record (truncated)"));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, StorageError> {
        Ok(self.take(1)?[0])
    }

    fn i64(&mut self) -> Result<i64, StorageError> {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(self.take(8)?);
        Ok(i64::from_le_bytes(raw))
    }

    fn length_prefixed(&mut self) -> Result<&'a [u8], StorageError> {
        let mut raw = [0u8; 4];
        raw.copy_from_slice(self.take(4)?);
        self.take(u32::from_le_bytes(raw) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(value: &[u8]) -> KeyValue {
        KeyValue {
            key: "/registry/pods/default/a".into(),
            value: value.to_vec(),
            create_revision: 2,
            mod_revision: 7,
            version: 3,
            lease: 9,
        }
    }

    #[test]
    fn kv_round_trips() {
        let original = kv(b"hello");
        let decoded = decode_kv(&original.key, &encode_kv(&original)).unwrap();
        assert_eq!(decoded, original);
    }

    #[test]
    fn history_round_trips() {
        let put = HistoryEntry::Put(kv(b""));
        let key = "/registry/pods/default/a";
        assert_eq!(decode_history(key, &encode_history(&put)).unwrap(), put);
        let tomb = encode_history(&HistoryEntry::Tombstone);
        assert!(is_tombstone(&tomb));
        assert_eq!(decode_history(key, &tomb).unwrap(), HistoryEntry::Tombstone);
    }

    #[test]
    fn events_round_trip_with_and_without_prev() {
        let with_prev = WatchEvent {
            kind: EventKind::Delete,
            kv: kv(b"old"),
            prev_kv: Some(kv(b"old")),
        };
        assert_eq!(
            decode_event(&encode_whole_event(&with_prev)).unwrap(),
            LoggedEvent::Whole(with_prev)
        );
        let without = WatchEvent {
            kind: EventKind::Put,
            kv: kv(b"new"),
            prev_kv: None,
        };
        assert_eq!(
            decode_event(&encode_whole_event(&without)).unwrap(),
            LoggedEvent::Whole(without)
        );
    }

    #[test]
    fn references_round_trip() {
        for kind in [EventKind::Put, EventKind::Delete] {
            let bytes = encode_event_reference(kind, "/registry/pods/default/é");
            let decoded = decode_event(&bytes).unwrap();
            assert_eq!(decoded.key(), "/registry/pods/default/é");
            assert_eq!(
                decoded,
                LoggedEvent::Reference {
                    kind,
                    key: "/registry/pods/default/é".into()
                }
            );
        }
        assert!(decode_event(&[EVENT_PUT_REF, 0xff]).is_err());
    }

    #[test]
    fn current_records_are_whole_or_a_revision() {
        let whole = kv(b"v");
        assert_eq!(
            decode_current(&whole.key, &encode_kv(&whole)).unwrap(),
            CurrentEntry::Whole(whole.clone())
        );
        assert_eq!(
            decode_current(&whole.key, &encode_current_reference(1 << 40)).unwrap(),
            CurrentEntry::At(1 << 40)
        );
        assert!(decode_current("k", &[CURRENT_AT_REVISION, 1, 2]).is_err());
        assert!(decode_current("k", &[9]).is_err());
    }

    #[test]
    fn truncated_records_are_errors() {
        assert!(decode_kv("k", &[KV_FORMAT, 1, 2]).is_err());
        assert!(decode_event(&[EVENT_PUT, 200, 0, 0, 0]).is_err());
    }
}
