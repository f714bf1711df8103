//! The protobuf wire primitives: varints, keys and length-delimited values.

use crate::ProtobufError;

pub(crate) const VARINT: u8 = 0;
pub(crate) const LENGTH_DELIMITED: u8 = 2;

/// Reads one message's bytes front to back.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    pub fn at_end(&self) -> bool {
        self.position >= self.bytes.len()
    }

    pub fn varint(&mut self) -> Result<u64, ProtobufError> {
        let mut value: u64 = 0;
        for shift in (0..70).step_by(7) {
            let byte = *self
                .bytes
                .get(self.position)
                .ok_or(ProtobufError::Truncated)?;
            self.position += 1;
            if shift == 63 && byte > 1 {
                return Err(ProtobufError::VarintOverflow);
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtobufError::VarintOverflow)
    }

    /// A field key: (field number, wire type).
    pub fn key(&mut self) -> Result<(u32, u8), ProtobufError> {
        let key = self.varint()?;
        let tag = u32::try_from(key >> 3).map_err(|_| ProtobufError::VarintOverflow)?;
        let wire_type = u8::try_from(key & 7).map_err(|_| ProtobufError::VarintOverflow)?;
        if tag == 0 {
            return Err(ProtobufError::Envelope("field number 0".into()));
        }
        Ok((tag, wire_type))
    }

    pub fn length_delimited(&mut self) -> Result<&'a [u8], ProtobufError> {
        let length = usize::try_from(self.varint()?).map_err(|_| ProtobufError::Truncated)?;
        let end = self
            .position
            .checked_add(length)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(ProtobufError::Truncated)?;
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub(crate) fn put_key(out: &mut Vec<u8>, tag: u32, wire_type: u8) {
    put_varint(out, (u64::from(tag) << 3) | u64::from(wire_type));
}

pub(crate) fn put_length_delimited(out: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    put_key(out, tag, LENGTH_DELIMITED);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

pub(crate) fn put_varint_field(out: &mut Vec<u8>, tag: u32, value: u64) {
    put_key(out, tag, VARINT);
    put_varint(out, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for value in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(Reader::new(&out).varint().unwrap(), value);
        }
    }

    #[test]
    fn truncated_and_overlong_input_is_an_error() {
        assert_eq!(Reader::new(&[0x80]).varint(), Err(ProtobufError::Truncated));
        assert_eq!(
            Reader::new(&[0xff; 11]).varint(),
            Err(ProtobufError::VarintOverflow)
        );
        assert_eq!(
            Reader::new(&[0x05, 1, 2]).length_delimited(),
            Err(ProtobufError::Truncated)
        );
    }
}
