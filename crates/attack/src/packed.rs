//! Numeric arrays of the model stored as one run of little-endian bytes each.
//!
//! Serde encodes a `Vec<u64>` element by element (postcard as varints), and decoding the
//! model's 1.4 million weights and keys that way took 7 ms of every start; a run of bytes is
//! decoded in one pass over fixed-width chunks. Use with `#[serde(with = "crate::packed")]`.

use serde::de::Visitor;
use serde::{Deserializer, Serializer};

/// A number with a fixed-width little-endian encoding.
pub trait Packed: Copy {
    /// Its width in bytes.
    const WIDTH: usize;
    /// Appends its bytes to `out`.
    fn put(self, out: &mut Vec<u8>);
    /// Reads it from exactly [`Packed::WIDTH`] bytes.
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! packed {
    ($($t:ty),*) => {$(
        impl Packed for $t {
            const WIDTH: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                let mut raw = [0u8; std::mem::size_of::<$t>()];
                raw.copy_from_slice(bytes);
                <$t>::from_le_bytes(raw)
            }
        }
    )*};
}

packed!(u16, u32, u64, f32);

/// Writes `values` as one byte string.
pub fn serialize<S: Serializer, T: Packed>(values: &[T], serializer: S) -> Result<S::Ok, S::Error> {
    let mut bytes = Vec::with_capacity(values.len() * T::WIDTH);
    for &value in values {
        value.put(&mut bytes);
    }
    serializer.serialize_bytes(&bytes)
}

/// Reads a byte string written by [`serialize`]; its length must be a multiple of the width.
pub fn deserialize<'de, D: Deserializer<'de>, T: Packed>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    struct Bytes<T>(std::marker::PhantomData<T>);
    impl<T: Packed> Visitor<'_> for Bytes<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a byte string of {}-byte numbers", T::WIDTH)
        }
        fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Vec<T>, E> {
            if !bytes.len().is_multiple_of(T::WIDTH) {
                return Err(E::invalid_length(bytes.len(), &self));
            }
            Ok(bytes.chunks_exact(T::WIDTH).map(T::get).collect())
        }
    }
    deserializer.deserialize_bytes(Bytes(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Arrays {
        #[serde(with = "super")]
        keys: Vec<u64>,
        #[serde(with = "super")]
        weights: Vec<f32>,
        #[serde(with = "super")]
        targets: Vec<u16>,
    }

    #[test]
    fn arrays_survive_the_round_trip_and_a_ragged_run_is_refused() {
        let arrays = Arrays {
            keys: vec![0, u64::MAX, 0x0123_4567_89ab_cdef],
            weights: vec![-1.5, 0.0, f32::MIN_POSITIVE],
            targets: vec![7, u16::MAX],
        };
        let bytes = postcard::to_stdvec(&arrays).expect("encodes");
        assert_eq!(
            postcard::from_bytes::<Arrays>(&bytes).expect("decodes"),
            arrays
        );
        // The first array's length prefix says 24 bytes; claiming 23 leaves a ragged run.
        let mut ragged = bytes.clone();
        ragged[0] = 23;
        assert!(postcard::from_bytes::<Arrays>(&ragged).is_err());
    }
}
