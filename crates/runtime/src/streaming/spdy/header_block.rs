//! SPDY/3 header blocks: name/value pairs with 32-bit lengths, compressed with one zlib stream
//! per direction of a connection (preset dictionary, a sync flush after every block).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::dictionary::DICTIONARY;
use crate::streaming::StreamingError;

/// Header names and values as they are on the wire (names lower-case).
pub type Headers = Vec<(String, String)>;

/// The value of header `name` (names compare case-insensitively).
pub fn header_value<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn compression_error(e: impl std::fmt::Display) -> StreamingError {
    StreamingError::HeaderCompression(e.to_string())
}

/// The plain (uncompressed) block.
pub fn serialize_headers(headers: &Headers) -> Vec<u8> {
    let mut block = Vec::new();
    block.extend_from_slice(&(headers.len() as u32).to_be_bytes());
    for (name, value) in headers {
        for part in [name.to_ascii_lowercase().as_bytes(), value.as_bytes()] {
            block.extend_from_slice(&(part.len() as u32).to_be_bytes());
            block.extend_from_slice(part);
        }
    }
    block
}

/// Parses a plain block; multiple values of one name (NUL-separated) stay one string.
pub fn parse_headers(block: &[u8]) -> Result<Headers, StreamingError> {
    let mut rest = block;
    let count = take_u32(&mut rest)?;
    let mut headers = Vec::new();
    for _ in 0..count {
        let name = take_string(&mut rest)?;
        let value = take_string(&mut rest)?;
        headers.push((name, value));
    }
    Ok(headers)
}

fn take_u32(rest: &mut &[u8]) -> Result<u32, StreamingError> {
    let Some((word, tail)) = rest.split_first_chunk::<4>() else {
        return Err(StreamingError::Spdy("truncated header block".into()));
    };
    *rest = tail;
    Ok(u32::from_be_bytes(*word))
}

fn take_string(rest: &mut &[u8]) -> Result<String, StreamingError> {
    let length = take_u32(rest)? as usize;
    if rest.len() < length {
        return Err(StreamingError::Spdy("truncated header block".into()));
    }
    let (text, tail) = rest.split_at(length);
    *rest = tail;
    String::from_utf8(text.to_vec()).map_err(|_| StreamingError::Spdy("header is not UTF-8".into()))
}

/// Compresses the header blocks one side of a connection sends.
pub struct HeaderBlockEncoder {
    deflater: Compress,
}

impl HeaderBlockEncoder {
    pub fn new() -> Result<Self, StreamingError> {
        let mut deflater = Compress::new(Compression::default(), true);
        deflater
            .set_dictionary(&DICTIONARY)
            .map_err(compression_error)?;
        Ok(Self { deflater })
    }

    pub fn encode(&mut self, headers: &Headers) -> Result<Vec<u8>, StreamingError> {
        let plain = serialize_headers(headers);
        let mut input = &plain[..];
        let mut out = Vec::with_capacity(plain.len() + 64);
        loop {
            let before = self.deflater.total_in();
            self.deflater
                .compress_vec(input, &mut out, FlushCompress::Sync)
                .map_err(compression_error)?;
            input = &input[(self.deflater.total_in() - before) as usize..];
            if input.is_empty() && out.len() < out.capacity() {
                return Ok(out);
            }
            out.reserve(256);
        }
    }
}

/// Decompresses the header blocks the other side sends.
pub struct HeaderBlockDecoder {
    inflater: Decompress,
}

impl Default for HeaderBlockDecoder {
    fn default() -> Self {
        Self {
            inflater: Decompress::new(true),
        }
    }
}

impl HeaderBlockDecoder {
    pub fn decode(&mut self, compressed: &[u8]) -> Result<Headers, StreamingError> {
        let mut input = compressed;
        let mut out = Vec::with_capacity(compressed.len() * 4 + 64);
        loop {
            let before = self.inflater.total_in();
            let result = self
                .inflater
                .decompress_vec(input, &mut out, FlushDecompress::Sync);
            input = &input[(self.inflater.total_in() - before) as usize..];
            match result {
                Ok(Status::StreamEnd) => break,
                Ok(_) => {
                    if input.is_empty() && out.len() < out.capacity() {
                        break;
                    }
                    out.reserve(1024);
                }
                Err(e) if e.needs_dictionary().is_some() => {
                    self.inflater
                        .set_dictionary(&DICTIONARY)
                        .map_err(compression_error)?;
                }
                Err(e) => return Err(compression_error(e)),
            }
        }
        parse_headers(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn blocks_round_trip_across_one_compression_stream() {
        let mut encoder = HeaderBlockEncoder::new().unwrap();
        let mut decoder = HeaderBlockDecoder::default();
        for port in ["80", "8080", "443"] {
            let sent = headers(&[("streamtype", "data"), ("port", port), ("requestid", "0")]);
            let wire = encoder.encode(&sent).unwrap();
            assert_eq!(decoder.decode(&wire).unwrap(), sent);
        }
        assert_eq!(
            decoder
                .decode(&encoder.encode(&Vec::new()).unwrap())
                .unwrap(),
            Vec::new()
        );
    }

    #[test]
    fn the_first_block_announces_the_dictionary() {
        let wire = HeaderBlockEncoder::new()
            .unwrap()
            .encode(&headers(&[("a", "b")]))
            .unwrap();
        assert_eq!(wire[1] & 0x20, 0x20, "FDICT set in the zlib header");
        // The dictionary's Adler-32, which peers check against their own copy.
        assert_eq!(wire[2..6], [0xe3, 0xc6, 0xa7, 0xc2]);
    }

    /// Two blocks made by another zlib (level 9, as spdystream compresses) from the same
    /// dictionary.
    #[test]
    fn decodes_blocks_of_another_compressor() {
        let first = "78f9e3c6a7c202253a703a2b294a4dcc851625aca9a0808614cb45e01c6061606100a4398b20d198094ade8c0600000000ffff";
        let second = "c2aa19540e2512d60b000000ffff";
        let mut decoder = HeaderBlockDecoder::default();
        assert_eq!(
            decoder.decode(&hex::decode(first).unwrap()).unwrap(),
            headers(&[
                ("streamtype", "error"),
                ("port", "8080"),
                ("requestid", "0")
            ])
        );
        assert_eq!(
            decoder.decode(&hex::decode(second).unwrap()).unwrap(),
            headers(&[("streamtype", "data"), ("port", "8080"), ("requestid", "0")])
        );
    }

    #[test]
    fn names_are_lower_cased_and_looked_up_case_insensitively() {
        let block = serialize_headers(&headers(&[("StreamType", "error")]));
        let parsed = parse_headers(&block).unwrap();
        assert_eq!(parsed, headers(&[("streamtype", "error")]));
        assert_eq!(header_value(&parsed, "streamType"), Some("error"));
    }

    #[test]
    fn a_truncated_block_is_an_error() {
        let block = serialize_headers(&headers(&[("port", "80")]));
        assert!(parse_headers(&block[..block.len() - 1]).is_err());
    }
}
