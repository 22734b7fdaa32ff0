//! Kafka's offset checkpoint file format, used per data directory by
//! `recovery-point-offset-checkpoint` and `log-start-offset-checkpoint`.
//!
//! ```text
//! 0                      <- version
//! 2                      <- number of entries
//! orders 0 1042          <- topic, partition, offset; one line per partition
//! orders 1 977
//! ```
//!
//! Lines end with `\n` (`\r\n` is accepted when reading). Fields are separated by whitespace;
//! topic names cannot contain any (see `TopicName`). Reading is strict: the version must be 0, the
//! count must match the number of entry lines, and every field must parse. As in Kafka, a
//! completely empty file reads as no entries.

/// The only version of the format.
const VERSION: i32 = 0;

/// Why a checkpoint file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CheckpointError {
    /// The first line is not version 0.
    #[error("checkpoint file has version line {line:?}; only version 0 is supported")]
    UnsupportedVersion {
        /// The first line.
        line: String,
    },
    /// The second line is missing or not a non-negative count.
    #[error("checkpoint file has entry count line {line:?}; expected a non-negative number")]
    InvalidCount {
        /// The second line, empty if missing.
        line: String,
    },
    /// An entry line is not `<topic> <partition> <offset>`.
    #[error(
        "line {line_number} of the checkpoint file is {line:?}; \
         expected `<topic> <partition> <offset>`"
    )]
    MalformedEntry {
        /// 1-based line number.
        line_number: usize,
        /// The line's content.
        line: String,
    },
    /// The number of entry lines differs from the count.
    #[error("checkpoint file announces {expected} entries but holds {actual}")]
    CountMismatch {
        /// The count on the second line.
        expected: usize,
        /// The number of entry lines.
        actual: usize,
    },
}

/// Encodes `(topic, partition, offset)` entries in the checkpoint format. Topics must be valid
/// topic names (no whitespace), as every name in the broker is.
pub(crate) fn encode(entries: &[(String, i32, i64)]) -> String {
    let mut out = format!("{VERSION}\n{}\n", entries.len());
    for (topic, partition, offset) in entries {
        out.push_str(topic);
        out.push(' ');
        out.push_str(&partition.to_string());
        out.push(' ');
        out.push_str(&offset.to_string());
        out.push('\n');
    }
    out
}

/// Decodes a checkpoint file, in file order.
pub(crate) fn decode(text: &str) -> Result<Vec<(String, i32, i64)>, CheckpointError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut lines = text.lines();
    let version_line = lines.next().unwrap_or_default();
    if version_line.trim().parse::<i32>() != Ok(VERSION) {
        return Err(CheckpointError::UnsupportedVersion { line: version_line.to_owned() });
    }
    let count_line = lines.next().unwrap_or_default();
    let expected: usize = count_line
        .trim()
        .parse()
        .map_err(|_| CheckpointError::InvalidCount { line: count_line.to_owned() })?;
    // The count comes from the file: never reserve more than the lines can hold.
    let mut entries = Vec::with_capacity(expected.min(text.len() / 6));
    for (index, line) in lines.enumerate() {
        let entry = parse_entry(line).ok_or_else(|| CheckpointError::MalformedEntry {
            line_number: index + 3,
            line: line.to_owned(),
        })?;
        entries.push(entry);
    }
    if entries.len() != expected {
        return Err(CheckpointError::CountMismatch { expected, actual: entries.len() });
    }
    Ok(entries)
}

fn parse_entry(line: &str) -> Option<(String, i32, i64)> {
    let mut fields = line.split_ascii_whitespace();
    let topic = fields.next()?;
    let partition = fields.next()?.parse().ok()?;
    let offset = fields.next()?.parse().ok()?;
    if fields.next().is_some() {
        return None;
    }
    Some((topic.to_owned(), partition, offset))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap.
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_kafkas_layout() {
        let entries = vec![("orders".to_string(), 0, 1042), ("orders".to_string(), 1, 977)];
        let text = encode(&entries);
        assert_eq!(text, "0\n2\norders 0 1042\norders 1 977\n");
        assert_eq!(decode(&text), Ok(entries));
    }

    #[test]
    fn empty_checkpoint() {
        assert_eq!(encode(&[]), "0\n0\n");
        assert_eq!(decode("0\n0\n"), Ok(vec![]));
        assert_eq!(decode(""), Ok(vec![]));
    }

    #[test]
    fn accepts_crlf_and_extra_spaces_between_fields() {
        assert_eq!(decode("0\r\n1\r\nt  3\t7\r\n"), Ok(vec![("t".to_string(), 3, 7)]));
    }

    #[test]
    fn rejects_bad_version() {
        for text in ["1\n0\n", "x\n0\n", "\n0\n", "0 0\n0\n"] {
            assert!(
                matches!(decode(text), Err(CheckpointError::UnsupportedVersion { .. })),
                "{text:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_count() {
        for text in ["0\n", "0\n-1\n", "0\nmany\n", "0\n\n"] {
            assert!(matches!(decode(text), Err(CheckpointError::InvalidCount { .. })), "{text:?}");
        }
    }

    #[test]
    fn rejects_count_mismatch() {
        assert_eq!(
            decode("0\n2\nt 0 1\n"),
            Err(CheckpointError::CountMismatch { expected: 2, actual: 1 })
        );
        assert_eq!(
            decode("0\n0\nt 0 1\n"),
            Err(CheckpointError::CountMismatch { expected: 0, actual: 1 })
        );
        // A huge count does not allocate for it.
        assert!(matches!(
            decode("0\n18446744073709551615\n"),
            Err(CheckpointError::CountMismatch { .. })
        ));
    }

    #[test]
    fn rejects_malformed_entries() {
        for (text, line_number) in [
            ("0\n1\nt 0\n", 3),
            ("0\n1\nt 0 1 2\n", 3),
            ("0\n1\nt x 1\n", 3),
            ("0\n1\nt 0 1.5\n", 3),
            ("0\n1\nt 2147483648 1\n", 3),
            ("0\n2\nt 0 1\n\n", 4),
            ("0\n1\n\n", 3),
        ] {
            match decode(text) {
                Err(CheckpointError::MalformedEntry { line_number: n, .. }) => {
                    assert_eq!(n, line_number, "{text:?}")
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
    }

    proptest! {
        #[test]
        fn round_trips(entries in proptest::collection::vec(
            ("[a-zA-Z0-9._-]{1,249}", any::<i32>(), any::<i64>()), 0..50)
        ) {
            prop_assert_eq!(decode(&encode(&entries)), Ok(entries));
        }

        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = decode(&text);
        }

        #[test]
        fn arbitrary_text_after_a_valid_header_never_panics(count in any::<u64>(), body in ".*") {
            let _ = decode(&format!("0\n{count}\n{body}"));
        }
    }
}
