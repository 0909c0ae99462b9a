//! [`sort_by`]: a stable binary insertion sort for the short lists the player orders
//! (variants by bandwidth, buffered ranges, throughput samples).
//!
//! The standard library's stable sort is several kilobytes of code per element type in the
//! browser package; this is a few hundred bytes. Comparisons are O(n log n); moves are
//! O(n²) element copies, which stays well under a millisecond for the thousands of items
//! a hostile playlist could list.

/// Sorts `items` stably by `is_less`.
pub fn sort_by<T>(items: &mut [T], mut is_less: impl FnMut(&T, &T) -> bool) {
    for sorted in 1..items.len() {
        let (prefix, rest) = items.split_at(sorted);
        let item = &rest[0];
        // After every element not greater than `item`: keeps equal elements in order.
        let position = prefix.partition_point(|probe| !is_less(item, probe));
        items[position..=sorted].rotate_right(1);
    }
}

/// Sorts `items` stably by the key `key` gives.
pub fn sort_by_key<T, K: Ord>(items: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(items, |a, b| key(a) < key(b));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably() {
        let mut items = [(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')];
        sort_by_key(&mut items, |item| item.0);
        assert_eq!(items, [(1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]);
        let mut empty: [u8; 0] = [];
        sort_by(&mut empty, |a, b| a < b);
    }

    #[test]
    fn agrees_with_the_standard_sort() {
        let mut state = 12345u64;
        for len in 0..200 {
            let mut items: Vec<(u8, usize)> = (0..len)
                .map(|index| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((state >> 59) as u8, index)
                })
                .collect();
            let mut expected = items.clone();
            expected.sort_by_key(|item| item.0);
            sort_by_key(&mut items, |item| item.0);
            assert_eq!(items, expected);
        }
    }
}
