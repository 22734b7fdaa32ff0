//! Cached writes laid over a store's scan: the merge every caching layer (key-value, window,
//! session) serves its scans with.

use std::cmp::Ordering;
use std::iter::Peekable;

use bytes::Bytes;

use crate::StoreError;
use crate::key_value::KeyValueIterator as RawIter;

/// Scans `store` with `cached` entries (a snapshot, pending deletes as `None`) laid over it. Both
/// are in the same raw-key order (descending if `reverse`); on equal keys the cache wins, and a
/// pending delete hides the stored entry. An error from the store ends the scan after it is
/// returned.
pub(crate) fn overlay<'a>(
    cached: Vec<(Bytes, Option<Bytes>)>,
    store: RawIter<'a>,
    reverse: bool,
) -> RawIter<'a> {
    Box::new(Overlay {
        cached: cached.into_iter().peekable(),
        store: store.peekable(),
        reverse,
        done: false,
    })
}

struct Overlay<'a> {
    cached: Peekable<std::vec::IntoIter<(Bytes, Option<Bytes>)>>,
    store: Peekable<RawIter<'a>>,
    reverse: bool,
    done: bool,
}

enum Next {
    Cached,
    Both,
    Store,
    End,
}

impl Iterator for Overlay<'_> {
    type Item = Result<(Bytes, Bytes), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let next = match (self.cached.peek(), self.store.peek()) {
                (_, Some(Err(_))) | (None, Some(Ok(_))) => Next::Store,
                (None, None) => Next::End,
                (Some(_), None) => Next::Cached,
                (Some((cached_key, _)), Some(Ok((store_key, _)))) => {
                    let order = cached_key.cmp(store_key);
                    match if self.reverse { order.reverse() } else { order } {
                        Ordering::Less => Next::Cached,
                        Ordering::Equal => Next::Both,
                        Ordering::Greater => Next::Store,
                    }
                }
            };
            let cached = match next {
                Next::End => return None,
                Next::Store => {
                    let item = self.store.next();
                    if let Some(Err(_)) = &item {
                        self.done = true;
                    }
                    return item;
                }
                Next::Both => {
                    self.store.next();
                    self.cached.next()
                }
                Next::Cached => self.cached.next(),
            };
            if let Some((key, Some(value))) = cached {
                return Some(Ok((key, value)));
            }
            // A pending delete: skip it (and the stored entry it hides, taken above).
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn keys(iter: RawIter<'_>) -> Vec<(Bytes, Bytes)> {
        iter.collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn cache_wins_and_pending_deletes_hide_stored_entries() {
        let stored: RawIter<'static> = Box::new(
            vec![Ok((b("a"), b("s"))), Ok((b("b"), b("s"))), Ok((b("d"), b("s")))].into_iter(),
        );
        let cached = vec![(b("b"), None), (b("c"), Some(b("c"))), (b("d"), Some(b("c")))];
        assert_eq!(
            keys(overlay(cached, stored, false)),
            vec![(b("a"), b("s")), (b("c"), b("c")), (b("d"), b("c"))]
        );
        let stored: RawIter<'static> =
            Box::new(vec![Ok((b("d"), b("s"))), Ok((b("a"), b("s")))].into_iter());
        let cached = vec![(b("e"), Some(b("c"))), (b("a"), None)];
        assert_eq!(keys(overlay(cached, stored, true)), vec![(b("e"), b("c")), (b("d"), b("s"))]);
    }
}
