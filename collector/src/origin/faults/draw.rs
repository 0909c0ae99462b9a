//! Deterministic draws: whether the k-th request for a (spec, path) is affected.
//!
//! Each (spec, path) pair counts its requests; request k draws
//! `uniform(seed, spec, path, k)` in `[0, 1)` and is affected when the draw is below `p`.
//! The draw is a fixed hash (FNV-1a, then a 64-bit finaliser), so it is the same on every
//! run, machine and Rust version for the same seed. Without `seed=` the process seed
//! (from the clock at start-up) is used: still spread evenly, not reproducible.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

/// Pairs remembered before the least recently used half is forgotten.
const MAX_COUNTERS: usize = 65_536;

/// Per-(spec, path) request counters.
pub struct Draws {
    process_seed: u64,
    counters: Mutex<Counters>,
}

#[derive(Default)]
struct Counters {
    /// Key hash → (requests so far, last use).
    by_key: HashMap<u64, (u64, u64)>,
    tick: u64,
}

impl Default for Draws {
    fn default() -> Self {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Self::with_process_seed(mix(nanos ^ u64::from(std::process::id()).rotate_left(32)))
    }
}

impl Draws {
    /// Counters with a given seed for specs without `seed=`.
    pub fn with_process_seed(process_seed: u64) -> Self {
        Self {
            process_seed,
            counters: Mutex::new(Counters::default()),
        }
    }

    /// The seed used when the spec has none.
    pub fn process_seed(&self) -> u64 {
        self.process_seed
    }

    /// The index of this request among those for (`spec`, `path`): 0, 1, 2, …
    pub fn next_index(&self, spec: &str, path: &str) -> u64 {
        let key = hash(&[b"counter", spec.as_bytes(), path.as_bytes()], 0);
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        counters.tick += 1;
        let tick = counters.tick;
        if counters.by_key.len() >= MAX_COUNTERS && !counters.by_key.contains_key(&key) {
            forget_oldest_half(&mut counters.by_key);
        }
        let entry = counters.by_key.entry(key).or_insert((0, tick));
        let index = entry.0;
        *entry = (index + 1, tick);
        index
    }
}

fn forget_oldest_half(by_key: &mut HashMap<u64, (u64, u64)>) {
    let mut ticks: Vec<u64> = by_key.values().map(|(_, tick)| *tick).collect();
    let middle = ticks.len() / 2;
    let (_, median, _) = ticks.select_nth_unstable(middle);
    let median = *median;
    by_key.retain(|_, (_, tick)| *tick > median);
}

/// A draw in `[0, 1)` for request `k` of (`spec`, `path`) under `seed`.
pub fn uniform(seed: u64, spec: &str, path: &str, k: u64) -> f64 {
    let h = hash(&[spec.as_bytes(), path.as_bytes(), &k.to_le_bytes()], seed);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// A stable 64-bit fingerprint of some byte strings (for validators).
pub fn fingerprint(parts: &[&[u8]]) -> u64 {
    hash(parts, 0)
}

/// FNV-1a over length-prefixed parts (so part boundaries matter), seeded, then mixed.
fn hash(parts: &[&[u8]], seed: u64) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
    };
    eat(&seed.to_le_bytes());
    for part in parts {
        eat(&(part.len() as u64).to_le_bytes());
        eat(part);
    }
    mix(h)
}

/// A 64-bit finaliser: every input bit affects every output bit.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_fixed_and_spread_evenly() {
        assert_eq!(uniform(7, "s", "p", 0), uniform(7, "s", "p", 0));
        assert_ne!(uniform(7, "s", "p", 0), uniform(8, "s", "p", 0));
        assert_ne!(uniform(7, "s", "p", 0), uniform(7, "s", "p", 1));
        assert_ne!(uniform(7, "ab", "c", 0), uniform(7, "a", "bc", 0));
        let n = 10_000;
        let hits = (0..n)
            .filter(|&k| uniform(1, "status=500,p=0.2", "a.m4s", k) < 0.2)
            .count();
        assert!((1_800..2_200).contains(&hits), "{hits}");
        let mean = (0..n).map(|k| uniform(3, "x", "y", k)).sum::<f64>() / n as f64;
        assert!((0.48..0.52).contains(&mean), "{mean}");
        assert!((0..n).all(|k| (0.0..1.0).contains(&uniform(k, "", "", k))));
    }

    #[test]
    fn counters_count_per_pair_and_stay_bounded() {
        let draws = Draws::with_process_seed(1);
        assert_eq!(draws.next_index("a", "x"), 0);
        assert_eq!(draws.next_index("a", "x"), 1);
        assert_eq!(draws.next_index("a", "y"), 0);
        assert_eq!(draws.next_index("b", "x"), 0);
        assert_eq!(draws.next_index("a", "x"), 2);
        for i in 0..(MAX_COUNTERS + 10) {
            draws.next_index("many", &i.to_string());
        }
        let len = draws.counters.lock().unwrap().by_key.len();
        assert!(len <= MAX_COUNTERS, "{len}");
        // Recently used pairs survive the purge.
        assert_eq!(draws.next_index("many", &(MAX_COUNTERS + 9).to_string()), 1);
    }
}
