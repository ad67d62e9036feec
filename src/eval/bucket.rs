//! flagd's `fractional` bucketing (v2): MurmurHash3 x86_32 with seed 0 over the UTF-8 of a
//! prefix (flag key or layer name) followed by the bucketing value, mapped onto
//! `[0, total_weight)` by `(hash * total_weight) >> 32`.

/// The largest total weight of a `fractional` split that flagd accepts (a signed 32-bit
/// sum): flag files, the evaluator and the export all hold to it.
pub const MAX_TOTAL_WEIGHT: u64 = i32::MAX as u64;

/// Inputs up to this length are joined on the stack.
const STACK_INPUT: usize = 256;

/// MurmurHash3 x86_32, seed 0, of `prefix` followed by `value`.
///
/// Hashed here rather than with the murmur3 crate: its `Read`-based interface costs about
/// 90 ns for a typical 45-byte key, most of an evaluation's budget; this takes about 10.
/// The tests check it against the crate.
pub(crate) fn hash(prefix: &str, value: &str) -> u32 {
    let (prefix, value) = (prefix.as_bytes(), value.as_bytes());
    let len = prefix.len() + value.len();
    if len <= STACK_INPUT {
        let mut joined = [0u8; STACK_INPUT];
        joined[..prefix.len()].copy_from_slice(prefix);
        joined[prefix.len()..len].copy_from_slice(value);
        murmur3_x86_32(&joined[..len])
    } else {
        murmur3_x86_32(&[prefix, value].concat())
    }
}

fn murmur3_x86_32(data: &[u8]) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let scramble = |k: u32| k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    let mut h: u32 = 0;
    let mut blocks = data.chunks_exact(4);
    for block in blocks.by_ref() {
        let k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        h = (h ^ scramble(k))
            .rotate_left(13)
            .wrapping_mul(5)
            .wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let k = tail
            .iter()
            .rev()
            .fold(0u32, |k, &byte| (k << 8) | u32::from(byte));
        h ^= scramble(k);
    }
    // The length is mixed in modulo 2^32, as the reference implementation does.
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// The bucket of a hash among `total_weight` equal slots.
pub(crate) fn bucket(hash: u32, total_weight: u64) -> u64 {
    (u64::from(hash) * total_weight) >> 32
}

/// The index of the entry whose cumulative weight first exceeds `bucket`.
pub(crate) fn pick(bucket: u64, weights: impl IntoIterator<Item = u64>) -> Option<usize> {
    let mut cumulative = 0;
    weights.into_iter().position(|weight| {
        cumulative += weight;
        bucket < cumulative
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_matches_reference_vectors() {
        // Reference values of MurmurHash3_x86_32 with seed 0.
        assert_eq!(hash("", ""), 0);
        assert_eq!(hash("hello", ""), 0x248b_fa47);
        assert_eq!(hash("hello", " world"), 0x5e92_8f0f);
        assert_eq!(hash("", "hello world"), 0x5e92_8f0f);
        assert_eq!(
            hash("The quick brown fox ", "jumps over the lazy dog"),
            0x2e4f_f723
        );
    }

    #[test]
    fn murmur3_agrees_with_the_murmur3_crate() {
        // Lengths 0..=300 cover every tail length and both the stack and heap paths.
        let text: String = (0..300u32)
            .map(|i| char::from_u32(0x20 + (i * 7919) % 0x250).unwrap_or('x'))
            .collect();
        for end in 0..=text.len() {
            let Some(input) = text.get(..end) else {
                continue;
            };
            let split = input
                .char_indices()
                .nth(input.chars().count() / 3)
                .map_or(0, |(i, _)| i);
            let (prefix, value) = input.split_at(split);
            let reference = murmur3::murmur3_32(&mut input.as_bytes(), 0).unwrap();
            assert_eq!(hash(prefix, value), reference, "input of {end} bytes");
        }
    }

    #[test]
    fn buckets_span_the_total_weight() {
        assert_eq!(bucket(0, 100), 0);
        assert_eq!(bucket(u32::MAX, 100), 99);
        assert_eq!(bucket(1 << 31, 100), 50);
        assert_eq!(bucket(u32::MAX, 1), 0);
    }

    #[test]
    fn pick_takes_the_first_entry_past_the_bucket() {
        assert_eq!(pick(0, [25, 25, 50]), Some(0));
        assert_eq!(pick(24, [25, 25, 50]), Some(0));
        assert_eq!(pick(25, [25, 25, 50]), Some(1));
        assert_eq!(pick(99, [25, 25, 50]), Some(2));
        assert_eq!(pick(0, [0, 10]), Some(1));
        assert_eq!(pick(100, [25, 25, 50]), None);
    }
}
