//! Structural validation of request bodies before they reach the message decoders.
//!
//! The `kafka-protocol` decoders reserve vector capacity from element counts read off the wire
//! before checking them against the bytes that are actually there, so a few hostile bytes can make
//! the process abort on allocation failure. [`check_request`] walks a request body field by field
//! following the message schema of its (API key, version) and rejects it unless
//!
//! - every array count (classic `INT32`, or compact `UNSIGNED_VARINT` N+1) is at most the number of
//!   bytes remaining, and every element that follows is itself well formed;
//! - every string and bytes length fits in the bytes remaining, strings are UTF-8, and null appears
//!   only where the field is nullable;
//! - in flexible versions every tagged-field section (count, then tag, size and `size` bytes per
//!   field) fits, and the tagged fields the decoders know have exactly the announced size;
//! - the walk ends exactly at the end of the body (Kafka clients never send trailing bytes).
//!
//! Promise: a body accepted here is decoded by `kafka-protocol` 0.18.0 without error, consuming
//! the whole body, with allocations bounded by the body's size. The walk itself never allocates,
//! never panics, and runs in time linear in the body length; its recursion depth is bounded by the
//! schemas (three levels of nesting), not by the input.
//!
//! Record batches inside produce requests are opaque bytes here; they are validated by the log
//! format code.

mod schema;
#[cfg(test)]
mod tests;

/// Why a request body was rejected before decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum GuardError {
    /// The body ends before the field is complete.
    #[error("request field `{field}` is truncated: the body ends before its bytes")]
    Truncated {
        /// Schema path of the field.
        field: &'static str,
    },
    /// An array or tagged-field count is larger than the bytes left, so the body cannot hold it.
    #[error(
        "request field `{field}` announces {count} elements but only {remaining} bytes remain \
         in the body"
    )]
    ImpossibleCount {
        /// Schema path of the field.
        field: &'static str,
        /// The count as read from the wire (for compact arrays: the element count, N-1).
        count: i64,
        /// Bytes left in the body (or in the enclosing tagged field) after the count.
        remaining: usize,
    },
    /// The API is known but the broker does not accept this version of it.
    #[error("version {version} of API key {api_key} is not supported by this broker")]
    UnsupportedVersion {
        /// API key from the request header.
        api_key: i16,
        /// API version from the request header.
        version: i16,
    },
    /// The broker does not implement this API at all.
    #[error("API key {0} is not supported by this broker")]
    UnknownApi(i16),
    /// A field holds a value the message format does not allow: a negative length other than -1,
    /// null in a non-nullable field, a malformed varint, invalid UTF-8 in a string, or a tagged
    /// field whose content does not match its announced size or version.
    #[error("request field `{field}` holds a value the message format does not allow")]
    Invalid {
        /// Schema path of the field.
        field: &'static str,
    },
}

/// Checks that `body` (a request without its request header) is a well-formed body of the given
/// API key and version, so that decoding it cannot request memory out of proportion to its size.
///
/// Returns [`GuardError::UnknownApi`] / [`GuardError::UnsupportedVersion`] for requests the broker
/// does not advertise (including ApiVersions versions above 4; the caller answers those itself).
pub(crate) fn check_request(api_key: i16, version: i16, body: &[u8]) -> Result<(), GuardError> {
    let api = schema::api(api_key).ok_or(GuardError::UnknownApi(api_key))?;
    if version < api.supported.0 || version > api.supported.1 {
        return Err(GuardError::UnsupportedVersion { api_key, version });
    }
    walk_body(api, version, body).map(|_| ())
}

/// Walks `body` against the schema of `api` at `version`, without looking at the advertised range.
///
/// Bytes after the last field are allowed, as Kafka's own parser allows them (it stops reading at
/// the last field): librdkafka's admin Metadata v12 request, for one, carries the field that v11
/// removed and a tagged-field section after the body's end. The decoder never reads them.
/// Returns how many bytes the fields took.
fn walk_body(api: &schema::Api, version: i16, body: &[u8]) -> Result<usize, GuardError> {
    let mut reader = Reader { rest: body };
    let walk = Walk { version, flexible: version >= api.flexible_from };
    walk.strukt(&mut reader, api.body)?;
    Ok(body.len() - reader.rest.len())
}

/// Wire type of a field.
#[derive(Debug, Clone, Copy)]
pub(super) enum Ty {
    /// One byte; any value is accepted (the decoders treat non-zero as true).
    Bool,
    /// `INT8`.
    Int8,
    /// `INT16`.
    Int16,
    /// `INT32`.
    Int32,
    /// `INT64`.
    Int64,
    /// `UUID`, 16 bytes.
    Uuid,
    /// Non-nullable string (`STRING` / `COMPACT_STRING`).
    String,
    /// Nullable string.
    NullableString,
    /// Non-nullable bytes (`BYTES` / `COMPACT_BYTES`).
    Bytes,
    /// Nullable bytes.
    NullableBytes,
    /// Non-nullable array (`ARRAY` / `COMPACT_ARRAY`) of the element type.
    Array(&'static Ty),
    /// Nullable array of the element type.
    NullableArray(&'static Ty),
    /// Nested structure; in flexible versions it ends with its own tagged-field section.
    Struct(&'static Schema),
}

impl Ty {
    /// Size on the wire when it does not depend on the content.
    const fn fixed_size(self) -> Option<usize> {
        match self {
            Ty::Bool | Ty::Int8 => Some(1),
            Ty::Int16 => Some(2),
            Ty::Int32 => Some(4),
            Ty::Int64 => Some(8),
            Ty::Uuid => Some(16),
            _ => None,
        }
    }
}

/// A field present in versions `first..=last`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Field {
    /// Schema path used in errors.
    pub(super) name: &'static str,
    /// First version holding the field.
    pub(super) first: i16,
    /// Last version holding the field (`i16::MAX` when open-ended).
    pub(super) last: i16,
    /// Wire type.
    pub(super) ty: Ty,
}

/// A tagged field the decoders know: in versions `first..=last` its content is decoded with `ty`;
/// in other versions the decoders reject the tag.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tagged {
    /// Tag number.
    pub(super) tag: u32,
    /// Schema path used in errors.
    pub(super) name: &'static str,
    /// First version where the tag is valid.
    pub(super) first: i16,
    /// Last version where the tag is valid.
    pub(super) last: i16,
    /// Wire type of the content.
    pub(super) ty: Ty,
}

/// Layout of a structure: its fields in wire order and the tagged fields it knows.
#[derive(Debug, Clone, Copy)]
pub(super) struct Schema {
    /// Name used for the tagged-field section in errors.
    pub(super) name: &'static str,
    /// Fields in wire order.
    pub(super) fields: &'static [Field],
    /// Known tagged fields; any other tag is skipped.
    pub(super) tagged: &'static [Tagged],
}

/// Byte cursor over the unread part of the body.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], GuardError> {
        if n > self.rest.len() {
            return Err(GuardError::Truncated { field });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], GuardError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn i16(&mut self, field: &'static str) -> Result<i16, GuardError> {
        Ok(i16::from_be_bytes(self.array(field)?))
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, GuardError> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    /// `UNSIGNED_VARINT` of at most five bytes whose value fits in 32 bits.
    fn uvarint(&mut self, field: &'static str) -> Result<u32, GuardError> {
        let mut value: u32 = 0;
        for i in 0..5u32 {
            let [b] = self.array::<1>(field)?;
            if i == 4 && b > 0x0f {
                // Continuation past five bytes, or bits beyond 32: never produced by an encoder.
                return Err(GuardError::Invalid { field });
            }
            value |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(GuardError::Invalid { field })
    }
}

/// Length prefix of a string, bytes or array field: `None` for null.
fn length(
    r: &mut Reader<'_>,
    field: &'static str,
    flexible: bool,
    short: bool,
    nullable: bool,
) -> Result<Option<u64>, GuardError> {
    let len = if flexible {
        match r.uvarint(field)? {
            0 => None,
            n => Some(u64::from(n) - 1),
        }
    } else {
        let n = if short { i32::from(r.i16(field)?) } else { r.i32(field)? };
        match n {
            -1 => None,
            n => Some(u64::try_from(n).map_err(|_| GuardError::Invalid { field })?),
        }
    };
    if len.is_none() && !nullable {
        return Err(GuardError::Invalid { field });
    }
    Ok(len)
}

/// One walk over a body: the version selects fields, `flexible` the encodings.
#[derive(Clone, Copy)]
struct Walk {
    version: i16,
    flexible: bool,
}

impl Walk {
    fn strukt(self, r: &mut Reader<'_>, schema: &Schema) -> Result<(), GuardError> {
        for f in schema.fields {
            if (f.first..=f.last).contains(&self.version) {
                self.value(r, f.ty, f.name)?;
            }
        }
        if self.flexible {
            self.tagged_fields(r, schema)?;
        }
        Ok(())
    }

    fn value(self, r: &mut Reader<'_>, ty: Ty, field: &'static str) -> Result<(), GuardError> {
        if let Some(n) = ty.fixed_size() {
            r.take(n, field)?;
            return Ok(());
        }
        match ty {
            Ty::String | Ty::NullableString => {
                let nullable = matches!(ty, Ty::NullableString);
                if let Some(len) = length(r, field, self.flexible, true, nullable)? {
                    let bytes = r.take(usize_of(len, field)?, field)?;
                    std::str::from_utf8(bytes).map_err(|_| GuardError::Invalid { field })?;
                }
            }
            Ty::Bytes | Ty::NullableBytes => {
                let nullable = matches!(ty, Ty::NullableBytes);
                if let Some(len) = length(r, field, self.flexible, false, nullable)? {
                    r.take(usize_of(len, field)?, field)?;
                }
            }
            Ty::Array(elem) | Ty::NullableArray(elem) => {
                let nullable = matches!(ty, Ty::NullableArray(_));
                if let Some(count) = length(r, field, self.flexible, false, nullable)? {
                    self.elements(r, *elem, count, field)?;
                }
            }
            Ty::Struct(schema) => self.strukt(r, schema)?,
            Ty::Bool | Ty::Int8 | Ty::Int16 | Ty::Int32 | Ty::Int64 | Ty::Uuid => {}
        }
        Ok(())
    }

    fn elements(
        self,
        r: &mut Reader<'_>,
        elem: Ty,
        count: u64,
        field: &'static str,
    ) -> Result<(), GuardError> {
        let remaining = r.rest.len();
        let impossible = GuardError::ImpossibleCount {
            field,
            count: i64::try_from(count).unwrap_or(i64::MAX),
            remaining,
        };
        // Every element takes at least one byte.
        if count > remaining as u64 {
            return Err(impossible);
        }
        if let Some(size) = elem.fixed_size() {
            if count.saturating_mul(size as u64) > remaining as u64 {
                return Err(impossible);
            }
            // Bounded by `remaining` just above, so the conversion cannot fail.
            r.take(usize_of(count * size as u64, field)?, field)?;
            return Ok(());
        }
        for _ in 0..count {
            self.value(r, elem, field)?;
        }
        Ok(())
    }

    fn tagged_fields(self, r: &mut Reader<'_>, schema: &Schema) -> Result<(), GuardError> {
        let field = schema.name;
        let count = r.uvarint(field)?;
        let remaining = r.rest.len();
        // Every tagged field takes at least two bytes (tag and size).
        if u64::from(count) > remaining as u64 / 2 {
            return Err(GuardError::ImpossibleCount { field, count: i64::from(count), remaining });
        }
        for _ in 0..count {
            let tag = r.uvarint(field)?;
            let size = r.uvarint(field)?;
            let content = r.take(usize_of(u64::from(size), field)?, field)?;
            if let Some(known) = schema.tagged.iter().find(|t| t.tag == tag) {
                if !(known.first..=known.last).contains(&self.version) {
                    return Err(GuardError::Invalid { field: known.name });
                }
                // The decoders read a known tag's content in place and ignore `size`; accept only
                // content that is exactly `size` bytes so both readings agree.
                let mut inner = Reader { rest: content };
                self.value(&mut inner, known.ty, known.name)?;
                if !inner.rest.is_empty() {
                    return Err(GuardError::Invalid { field: known.name });
                }
            }
        }
        Ok(())
    }
}

fn usize_of(n: u64, field: &'static str) -> Result<usize, GuardError> {
    usize::try_from(n).map_err(|_| GuardError::Truncated { field })
}
