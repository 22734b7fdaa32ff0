//! Length-prefixed frames: a big-endian i32 size, then that many bytes.

use bytes::{Buf, Bytes, BytesMut};

/// Why a frame cannot be read. Either way the connection is closed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// The announced size is negative.
    #[error("frame size {0} is negative")]
    Negative(i32),
    /// The announced size is above the broker's limit.
    #[error("frame of {size} bytes exceeds the maximum request size of {max} bytes")]
    TooLarge { size: usize, max: usize },
}

/// Takes the next whole frame off the front of `buf`, if it has arrived. The size is checked before
/// any buffer for the frame is reserved.
pub(crate) fn next_frame(buf: &mut BytesMut, max: usize) -> Result<Option<Bytes>, FrameError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let size = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if size < 0 {
        return Err(FrameError::Negative(size));
    }
    let size = size as usize;
    if size > max {
        return Err(FrameError::TooLarge { size, max });
    }
    if buf.len() < 4 + size {
        // Reserve only up to what the (checked) size says is still coming.
        buf.reserve(4 + size - buf.len());
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(buf.split_to(size).freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frames_are_split_at_their_sizes() {
        let mut buf = BytesMut::from(&[0u8, 0, 0, 2, 7, 8, 0, 0, 0, 1, 9, 0, 0][..]);
        assert_eq!(next_frame(&mut buf, 100).unwrap().as_deref(), Some(&[7u8, 8][..]));
        assert_eq!(next_frame(&mut buf, 100).unwrap().as_deref(), Some(&[9u8][..]));
        assert_eq!(next_frame(&mut buf, 100).unwrap(), None);
        assert_eq!(buf.len(), 2);
    }

    #[test]
    fn oversize_and_negative_sizes_are_rejected() {
        let mut big = BytesMut::from(&[0x7fu8, 0xff, 0xff, 0xff][..]);
        assert_eq!(
            next_frame(&mut big, 1 << 20),
            Err(FrameError::TooLarge { size: i32::MAX as usize, max: 1 << 20 })
        );
        assert!(big.capacity() < 1 << 20, "no buffer was reserved for the announced size");
        let mut neg = BytesMut::from(&[0xffu8, 0xff, 0xff, 0xfe][..]);
        assert_eq!(next_frame(&mut neg, 100), Err(FrameError::Negative(-2)));
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut buf = BytesMut::from(&data[..]);
            while let Ok(Some(_)) = next_frame(&mut buf, 32) {}
        }
    }
}
