//! One stable sort, shared by every caller.
//!
//! `slice::sort` and friends are generic: each element type and comparison gets its
//! own copy of the standard library's sort (driftsort, about 4 KB of wasm per copy),
//! and so does every `collect()` into a `BTreeMap` or `BTreeSet`, which sorts its
//! input first. The browser bundle has a size budget, so the crate sorts through
//! [`sort_by`]: it sorts a list of positions with one compiled copy of the standard
//! sort, calling the caller's comparison through a `dyn` reference, then moves the
//! elements into that order. Maps and sets are built with `extend`, which inserts one
//! entry at a time and sorts nothing.
//!
//! The result is exactly that of `slice::sort_by` (stable: equal elements keep their
//! order); the cost is one indirect call per comparison, which no list sorted here
//! notices.

use std::cmp::Ordering;

/// Sorts `items` stably with `compare`, as `items.sort_by(compare)` would.
pub fn sort_by<T>(items: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    let mut order = positions(items.len());
    sort_positions(&mut order, &mut |a, b| compare(&items[a as usize], &items[b as usize]));
    permute(items, &mut order);
}

/// Sorts `items` stably by `key`, as `items.sort_by_key(key)` would.
pub fn sort_by_key<T, K: Ord>(items: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `items` stably in their natural order, as `items.sort()` would.
pub fn sort<T: Ord>(items: &mut [T]) {
    sort_by(items, T::cmp);
}

/// `0, 1, …, len - 1`. Lists sorted here are far below `u32::MAX` entries.
fn positions(len: usize) -> Vec<u32> {
    (0..len as u32).collect()
}

/// The one copy of the standard sort: positions compared through `compare`.
#[inline(never)]
fn sort_positions(order: &mut [u32], compare: &mut dyn FnMut(u32, u32) -> Ordering) {
    order.sort_by(|a, b| compare(*a, *b));
}

/// Reorders `items` so that `items[i]` becomes the element that was at `order[i]`,
/// following each cycle of the permutation with swaps. `order` is used up: every
/// entry ends as its own position.
fn permute<T>(items: &mut [T], order: &mut [u32]) {
    for start in 0..items.len() {
        let mut at = start;
        loop {
            let from = order[at] as usize;
            order[at] = at as u32;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_the_standard_stable_sort() {
        // Pairs with many equal keys: stability shows in the second field.
        let mut state = 7u64;
        for len in [0usize, 1, 2, 3, 10, 33, 200, 1000] {
            let items: Vec<(u8, u32)> = (0..len as u32)
                .map(|i| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((state >> 59) as u8, i)
                })
                .collect();
            let mut expected = items.clone();
            expected.sort_by_key(|p| p.0);
            let mut ours = items.clone();
            sort_by_key(&mut ours, |p| p.0);
            assert_eq!(ours, expected, "len {len}");
            let mut all = items.clone();
            sort(&mut all);
            let mut all_expected = items;
            all_expected.sort();
            assert_eq!(all, all_expected, "len {len}");
        }
    }
}
