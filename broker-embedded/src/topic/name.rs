//! Validated topic names and partition directory names.
//!
//! Kafka's rule for a topic name: 1 to 249 characters, each one of `a-z`, `A-Z`, `0-9`, `.`, `_`
//! or `-`, and neither `.` nor `..`. Such a name contains no path separator, no NUL and cannot
//! climb out of a directory, so `data_dir.join(partition_dir_name(..))` always stays inside
//! `data_dir`.
//!
//! Kafka additionally refuses to create a topic whose name differs from an existing one only by
//! `.` versus `_` (`a.b` and `a_b` collide in metric names) and warns when a name contains both.
//! That check needs the set of existing topics, so it belongs to topic creation;
//! [`TopicName::collision_key`] gives the key to compare.

use std::borrow::Borrow;
use std::fmt;

/// The longest topic name Kafka accepts, in characters (all of them ASCII, so also in bytes).
pub const MAX_TOPIC_NAME_LEN: usize = 249;

/// A topic name that satisfies Kafka's naming rule.
///
/// Ordering, equality and hashing are those of the underlying string.
///
/// ```
/// use broker_embedded::topic::TopicName;
///
/// let name = TopicName::new("orders.v1")?;
/// assert_eq!(name.as_str(), "orders.v1");
/// assert!(TopicName::new("../etc").is_err());
/// # Ok::<(), broker_embedded::topic::InvalidTopicName>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicName(String);

impl TopicName {
    /// Validates `s` against Kafka's rule and returns it as a topic name.
    pub fn new(s: &str) -> Result<TopicName, InvalidTopicName> {
        let reject = |reason| Err(InvalidTopicName { name: s.to_owned(), reason });
        if s.is_empty() {
            return reject(InvalidTopicReason::Empty);
        }
        if s == "." || s == ".." {
            return reject(InvalidTopicReason::DotOrDotDot);
        }
        if let Some(ch) = s.chars().find(|&c| !is_legal_char(c)) {
            return reject(InvalidTopicReason::IllegalCharacter(ch));
        }
        // Every character is now ASCII, so the byte length is the character count.
        if s.len() > MAX_TOPIC_NAME_LEN {
            return reject(InvalidTopicReason::TooLong(s.len()));
        }
        Ok(TopicName(s.to_owned()))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the name and returns the inner string.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Whether the name contains `.` or `_`, the characters Kafka treats as colliding.
    pub fn has_collision_chars(&self) -> bool {
        self.0.contains(['.', '_'])
    }

    /// The name with every `.` replaced by `_`. Two topics whose keys are equal collide in Kafka's
    /// metric names; Kafka refuses to create the second one.
    pub fn collision_key(&self) -> String {
        self.0.replace('.', "_")
    }
}

fn is_legal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for TopicName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for TopicName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for TopicName {
    type Error = InvalidTopicName;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        TopicName::new(s)
    }
}

impl std::str::FromStr for TopicName {
    type Err = InvalidTopicName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TopicName::new(s)
    }
}

/// Why a string is not a valid topic name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidTopicReason {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_TOPIC_NAME_LEN`] characters; carries the length.
    TooLong(usize),
    /// The name contains a character outside `[a-zA-Z0-9._-]`; carries the first such character.
    IllegalCharacter(char),
    /// The name is `.` or `..`.
    DotOrDotDot,
    /// The name differs from an existing topic's only by `.` versus `_` (Kafka's metrics would
    /// mix them up); carries the existing name.
    CollidesWith(String),
}

impl fmt::Display for InvalidTopicReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidTopicReason::CollidesWith(other) => {
                write!(f, "it collides with the existing topic {other:?} ('.' and '_' are alike)")
            }
            InvalidTopicReason::Empty => f.write_str("a topic name cannot be empty"),
            InvalidTopicReason::TooLong(len) => {
                write!(f, "it is {len} characters long, the limit is {MAX_TOPIC_NAME_LEN}")
            }
            InvalidTopicReason::IllegalCharacter(ch) => write!(
                f,
                "it contains {ch:?}; only ASCII letters, digits, '.', '_' and '-' are allowed"
            ),
            InvalidTopicReason::DotOrDotDot => f.write_str("'.' and '..' are not topic names"),
        }
    }
}

/// A string rejected as a topic name, with the reason.
///
/// The message quotes the name with `{:?}`, so control and non-ASCII characters print escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid topic name {name:?}: {reason}")]
pub struct InvalidTopicName {
    name: String,
    reason: InvalidTopicReason,
}

impl InvalidTopicName {
    /// A valid name that collides with an existing topic's.
    pub(crate) fn collides(name: &TopicName, with: &TopicName) -> Self {
        Self {
            name: name.as_str().to_string(),
            reason: InvalidTopicReason::CollidesWith(with.as_str().to_string()),
        }
    }

    /// The rejected name, exactly as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why the name was rejected.
    pub fn reason(&self) -> &InvalidTopicReason {
        &self.reason
    }
}

/// The directory name of a partition: `<topic>-<partition>`.
///
/// `partition` must be non-negative (Kafka partitions are); validate partition numbers from the
/// wire before calling this, since a negative number would not parse back.
pub fn partition_dir_name(topic: &TopicName, partition: i32) -> String {
    format!("{}-{}", topic.as_str(), partition)
}

/// Parses a partition directory name produced by [`partition_dir_name`].
///
/// Splits at the last `-` (topic names may contain `-`). Returns `None` unless the part before it
/// is a valid topic name and the part after it is a non-negative partition number in canonical
/// decimal form (digits only, no sign, no leading zero), so every accepted name is exactly what
/// [`partition_dir_name`] would produce. Directories Kafka marks with suffixes such as
/// `-delete` or `-future` therefore yield `None`.
pub fn parse_partition_dir_name(dir_name: &str) -> Option<(TopicName, i32)> {
    let (topic, partition) = dir_name.rsplit_once('-')?;
    let canonical = !partition.is_empty()
        && partition.bytes().all(|b| b.is_ascii_digit())
        && (partition == "0" || !partition.starts_with('0'));
    if !canonical {
        return None;
    }
    let partition: i32 = partition.parse().ok()?;
    let topic = TopicName::new(topic).ok()?;
    Some((topic, partition))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap.
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;
    use std::path::{Component, Path};

    fn reason(s: &str) -> InvalidTopicReason {
        TopicName::new(s).unwrap_err().reason().clone()
    }

    #[test]
    fn rejects_dot_and_dot_dot() {
        assert_eq!(reason("."), InvalidTopicReason::DotOrDotDot);
        assert_eq!(reason(".."), InvalidTopicReason::DotOrDotDot);
    }

    #[test]
    fn rejects_path_traversal_and_separators() {
        assert_eq!(reason("../x"), InvalidTopicReason::IllegalCharacter('/'));
        assert_eq!(reason("a/b"), InvalidTopicReason::IllegalCharacter('/'));
        assert_eq!(reason("a\\b"), InvalidTopicReason::IllegalCharacter('\\'));
        assert_eq!(reason("/"), InvalidTopicReason::IllegalCharacter('/'));
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(reason(""), InvalidTopicReason::Empty);
    }

    #[test]
    fn length_limit_is_249() {
        let ok = "a".repeat(249);
        assert_eq!(TopicName::new(&ok).unwrap().as_str(), ok);
        assert_eq!(reason(&"a".repeat(250)), InvalidTopicReason::TooLong(250));
    }

    #[test]
    fn rejects_nul_and_non_ascii_and_prints_them_escaped() {
        let err = TopicName::new("a\0b").unwrap_err();
        assert_eq!(err.reason(), &InvalidTopicReason::IllegalCharacter('\0'));
        let msg = err.to_string();
        assert!(!msg.contains('\0'), "message must not carry a raw NUL: {msg}");
        assert!(msg.contains(r#""a\0b""#), "{msg}");

        let err = TopicName::new("tópico").unwrap_err();
        assert_eq!(err.reason(), &InvalidTopicReason::IllegalCharacter('ó'));
        assert_eq!(err.name(), "tópico");

        assert_eq!(reason("a b"), InvalidTopicReason::IllegalCharacter(' '));
        assert_eq!(reason("a\nb"), InvalidTopicReason::IllegalCharacter('\n'));
    }

    #[test]
    fn accepts_every_legal_character() {
        let name = TopicName::new("azAZ09._-").unwrap();
        assert_eq!(name.to_string(), "azAZ09._-");
        assert_eq!(name.as_ref() as &str, "azAZ09._-");
        assert!(TopicName::new("...").is_ok());
        assert!(TopicName::new("-").is_ok());
    }

    #[test]
    fn borrow_allows_lookup_by_str() {
        let mut set = HashSet::new();
        set.insert(TopicName::new("orders").unwrap());
        assert!(set.contains("orders"));
        assert!(!set.contains("payments"));
    }

    #[test]
    fn collision_key_maps_dots_to_underscores() {
        let a = TopicName::new("a.b").unwrap();
        let b = TopicName::new("a_b").unwrap();
        assert_eq!(a.collision_key(), b.collision_key());
        assert!(a.has_collision_chars());
        assert!(!TopicName::new("ab-c").unwrap().has_collision_chars());
    }

    #[test]
    fn partition_dir_name_round_trips() {
        let topic = TopicName::new("my-topic-7").unwrap();
        let dir = partition_dir_name(&topic, 12);
        assert_eq!(dir, "my-topic-7-12");
        assert_eq!(parse_partition_dir_name(&dir), Some((topic, 12)));
    }

    #[test]
    fn parse_partition_dir_name_rejects_non_partition_dirs() {
        for bad in [
            "topic",
            "-1",
            "topic-",
            "topic-x",
            "topic-+1",
            "topic-01",
            "topic-2147483648",
            "..-0",
            "a/b-0",
            "topic-0.abc-delete",
            "topic-0.abc-future",
        ] {
            assert_eq!(parse_partition_dir_name(bad), None, "{bad}");
        }
        assert_eq!(
            parse_partition_dir_name("t-2147483647"),
            Some((TopicName::new("t").unwrap(), i32::MAX))
        );
        // Splitting at the last '-' reads this as topic "topic-", partition 1: the reason
        // partition_dir_name must never be given a negative partition.
        assert_eq!(
            parse_partition_dir_name("topic--1"),
            Some((TopicName::new("topic-").unwrap(), 1))
        );
        assert_eq!(parse_partition_dir_name("t-0"), Some((TopicName::new("t").unwrap(), 0)));
    }

    fn name_like() -> impl Strategy<Value = String> {
        prop_oneof!["[a-zA-Z0-9._-]{1,260}", "[a-z./\\\\\\x00-]{0,8}", any::<String>(),]
    }

    proptest! {
        #[test]
        fn accepted_names_are_one_component_inside_the_parent(s in name_like()) {
            if let Ok(name) = TopicName::new(&s) {
                let parent = Path::new("/data/dir");
                for leaf in [name.as_str().to_owned(), partition_dir_name(&name, 3)] {
                    let mut components = Path::new(&leaf).components();
                    prop_assert!(matches!(components.next(), Some(Component::Normal(_))));
                    prop_assert!(components.next().is_none());
                    let joined = parent.join(&leaf);
                    prop_assert_eq!(joined.parent(), Some(parent));
                    prop_assert!(joined.starts_with(parent));
                    prop_assert!(
                        joined.components().all(|c| !matches!(c, Component::ParentDir | Component::CurDir))
                    );
                }
            }
        }

        #[test]
        fn validation_matches_the_rule(s in name_like()) {
            let legal = !s.is_empty()
                && s.chars().count() <= 249
                && s != "."
                && s != ".."
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-');
            prop_assert_eq!(TopicName::new(&s).is_ok(), legal);
        }

        #[test]
        fn partition_dir_names_parse_back(s in "[a-zA-Z0-9._-]{1,249}", p in 0..=i32::MAX) {
            if let Ok(name) = TopicName::new(&s) {
                let dir = partition_dir_name(&name, p);
                prop_assert_eq!(parse_partition_dir_name(&dir), Some((name, p)));
            }
        }
    }
}
