//! The checkpoint file: which changelog offsets a task's local state reflects (Kafka's
//! `OffsetCheckpoint`, file `.checkpoint` in the task directory).
//!
//! Text, as Kafka writes it: a version line (`0`), a line with the number of entries, then one
//! `topic partition offset` line per changelog partition. Written to a temporary file, fsynced and
//! renamed over the old one, so a crash leaves the old file or the new one, never a mix. A file
//! that does not parse is reported as invalid: the caller wipes the state and restores from the
//! changelog's start.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// Changelog offsets by (topic, partition): the offset of the next changelog record the state does
/// not yet reflect.
pub(crate) type Offsets = BTreeMap<(String, i32), i64>;

const VERSION: &str = "0";

/// The file's text for `offsets`.
pub(crate) fn format(offsets: &Offsets) -> String {
    let mut out = format!("{VERSION}\n{}\n", offsets.len());
    for ((topic, partition), offset) in offsets {
        out.push_str(&format!("{topic} {partition} {offset}\n"));
    }
    out
}

/// Parses a checkpoint; the error says what is wrong with it.
pub(crate) fn parse(text: &str) -> Result<Offsets, String> {
    let mut lines = text.lines();
    match lines.next() {
        Some(VERSION) => {}
        Some(v) => return Err(format!("unknown checkpoint version `{v}`")),
        None => return Err("empty checkpoint".into()),
    }
    let count: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or("the entry count is missing or not a number")?;
    let mut offsets = Offsets::new();
    for _ in 0..count {
        let line = lines.next().ok_or("fewer entries than the count says")?;
        let mut parts = line.split(' ');
        let (Some(topic), Some(partition), Some(offset), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("malformed entry `{line}`"));
        };
        let partition: i32 = partition.parse().map_err(|_| format!("bad partition in `{line}`"))?;
        let offset: i64 = offset.parse().map_err(|_| format!("bad offset in `{line}`"))?;
        if topic.is_empty() || partition < 0 || offset < 0 {
            return Err(format!("invalid entry `{line}`"));
        }
        offsets.insert((topic.to_string(), partition), offset);
    }
    if lines.any(|l| !l.trim().is_empty()) {
        return Err("more entries than the count says".into());
    }
    Ok(offsets)
}

/// Reads the checkpoint at `path`: `Ok(None)` if there is none, `Err` if it is unreadable or invalid.
pub(crate) fn read(path: &Path) -> Result<Option<Offsets>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).map(Some).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Writes the checkpoint atomically (temporary file, fsync, rename, fsync of the directory).
pub(crate) fn write(path: &Path, offsets: &Offsets) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(format(offsets).as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Offsets {
        let mut o = Offsets::new();
        o.insert(("app-counts-changelog".into(), 3), 1234);
        o.insert(("app-other-changelog".into(), 0), 0);
        o
    }

    #[test]
    fn kafkas_layout_round_trips() {
        let text = format(&sample());
        assert_eq!(text, "0\n2\napp-counts-changelog 3 1234\napp-other-changelog 0 0\n");
        assert_eq!(parse(&text).unwrap(), sample());
        assert_eq!(parse("0\n0\n").unwrap(), Offsets::new());
    }

    #[test]
    fn damaged_checkpoints_are_invalid() {
        for bad in [
            "",
            "1\n0\n",
            "0\n",
            "0\nx\n",
            "0\n2\nt 0 1\n",
            "0\n1\nt 0\n",
            "0\n1\nt 0 1 2\n",
            "0\n1\nt -1 5\n",
            "0\n1\nt 0 -5\n",
            "0\n1\nt 0 1\nt 1 2\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn written_files_read_back_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".checkpoint");
        assert_eq!(read(&path).unwrap(), None);
        write(&path, &sample()).unwrap();
        assert_eq!(read(&path).unwrap(), Some(sample()));
        std::fs::write(&path, "garbage").unwrap();
        assert!(read(&path).unwrap_err().contains(".checkpoint"));
    }
}
