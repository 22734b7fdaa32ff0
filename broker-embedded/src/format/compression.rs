//! Decompression of record batches: gzip, snappy (raw, or in the xerial framing Kafka's Java client
//! and librdkafka write), lz4 (frame format) and zstd.
//!
//! The decompressed size is capped: every decoder writes into a buffer that grows with the output
//! actually produced, stops at the cap, and no buffer is sized by a length read from the input
//! beyond what the cap allows. A batch that would decompress past the cap is an error, so a small
//! hostile batch cannot make a reader allocate without bound.

use std::io::Read;

use super::{Compression, FormatError};

/// The most bytes one batch may decompress to (128 MiB).
pub(crate) const MAX_DECOMPRESSED: usize = 128 << 20;

/// The header of xerial's snappy framing: magic, then version 1 and minimum compatible version 1.
const XERIAL_MAGIC: [u8; 16] = *b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01";

fn failed(codec: &str, e: impl std::fmt::Display) -> FormatError {
    FormatError::InvalidRecord(format!("cannot decompress {codec} records: {e}"))
}

fn too_big(codec: &str, limit: usize) -> FormatError {
    FormatError::InvalidRecord(format!(
        "{codec} records decompress to more than the limit of {limit} bytes"
    ))
}

/// Reads a decompressing stream to its end, refusing output beyond `limit`.
fn read_capped(codec: &str, reader: impl Read, limit: usize) -> Result<Vec<u8>, FormatError> {
    let mut out = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut out).map_err(|e| failed(codec, e))?;
    if out.len() > limit {
        return Err(too_big(codec, limit));
    }
    Ok(out)
}

/// Appends one raw snappy block's output to `out`, within `limit` bytes in all.
fn snappy_block(block: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), FormatError> {
    let len = snap::raw::decompress_len(block).map_err(|e| failed("snappy", e))?;
    if out.len() + len > limit {
        return Err(too_big("snappy", limit));
    }
    let start = out.len();
    out.resize(start + len, 0);
    snap::raw::Decoder::new()
        .decompress(block, &mut out[start..])
        .map_err(|e| failed("snappy", e))?;
    Ok(())
}

fn snappy(data: &[u8], limit: usize) -> Result<Vec<u8>, FormatError> {
    let mut out = Vec::new();
    let Some(mut rest) = data.strip_prefix(&XERIAL_MAGIC[..]) else {
        snappy_block(data, &mut out, limit)?;
        return Ok(out);
    };
    while !rest.is_empty() {
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            return Err(failed("snappy", "truncated block length"));
        };
        let len = u32::from_be_bytes(*len) as usize;
        if len > tail.len() {
            return Err(failed("snappy", "block runs past the end of the batch"));
        }
        let (block, next) = tail.split_at(len);
        snappy_block(block, &mut out, limit)?;
        rest = next;
    }
    Ok(out)
}

/// Decompresses a batch's records section.
pub(crate) fn decompress(
    codec: Compression,
    data: &[u8],
    limit: usize,
) -> Result<Vec<u8>, FormatError> {
    match codec {
        Compression::None => Ok(data.to_vec()),
        Compression::Gzip => read_capped("gzip", flate2::read::MultiGzDecoder::new(data), limit),
        Compression::Snappy => snappy(data, limit),
        Compression::Lz4 => read_capped("lz4", lz4_flex::frame::FrameDecoder::new(data), limit),
        Compression::Zstd => {
            let decoder =
                zstd::stream::read::Decoder::with_buffer(data).map_err(|e| failed("zstd", e))?;
            read_capped("zstd", decoder, limit)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn every_codec_round_trips() {
        let data: Vec<u8> = (0..50_000u32).flat_map(|i| (i % 251).to_be_bytes()).collect();
        let xerial = {
            let mut v = XERIAL_MAGIC.to_vec();
            for chunk in data.chunks(32 * 1024) {
                let block = snap::raw::Encoder::new().compress_vec(chunk).unwrap();
                v.extend_from_slice(&(block.len() as u32).to_be_bytes());
                v.extend_from_slice(&block);
            }
            v
        };
        let lz4 = {
            let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
            e.write_all(&data).unwrap();
            e.finish().unwrap()
        };
        let cases = [
            (Compression::Gzip, gzip(&data)),
            (Compression::Snappy, snap::raw::Encoder::new().compress_vec(&data).unwrap()),
            (Compression::Snappy, xerial),
            (Compression::Lz4, lz4),
            (Compression::Zstd, zstd::encode_all(&data[..], 3).unwrap()),
        ];
        for (codec, compressed) in cases {
            assert_eq!(
                decompress(codec, &compressed, MAX_DECOMPRESSED).unwrap(),
                data,
                "{codec:?}"
            );
        }
    }

    #[test]
    fn output_past_the_limit_is_an_error_not_an_allocation() {
        let zeros = vec![0u8; 1 << 20];
        let lz4 = {
            let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
            e.write_all(&zeros).unwrap();
            e.finish().unwrap()
        };
        let cases = [
            (Compression::Gzip, gzip(&zeros)),
            (Compression::Snappy, snap::raw::Encoder::new().compress_vec(&zeros).unwrap()),
            (Compression::Lz4, lz4),
            (Compression::Zstd, zstd::encode_all(&zeros[..], 3).unwrap()),
        ];
        for (codec, compressed) in cases {
            let err = decompress(codec, &compressed, 1000).unwrap_err();
            assert!(err.to_string().contains("more than the limit"), "{codec:?}: {err}");
        }
        // A raw snappy block that announces 4 GiB is refused before anything is allocated.
        let lying = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
        assert!(decompress(Compression::Snappy, &lying, MAX_DECOMPRESSED).is_err());
    }

    #[test]
    fn garbage_is_an_error() {
        for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd] {
            assert!(decompress(codec, b"definitely not compressed", 1 << 20).is_err(), "{codec:?}");
        }
    }
}
