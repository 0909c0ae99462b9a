//! [`SmallMap`]: a map kept as a vector sorted by key, for the handful of entries the
//! player keeps by key (requests in flight, variables, byte range ends).
//!
//! It iterates in key order like `BTreeMap` and costs a fraction of the code size of
//! `BTreeMap` or `HashMap` in the browser package: one binary search over a `Vec`.

/// A map of few entries, sorted by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmallMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> SmallMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Where `key` is, or where it would go.
    fn find<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: std::borrow::Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries
            .binary_search_by(|(probe, _)| probe.borrow().cmp(key))
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(index) => Some(std::mem::replace(&mut self.entries[index].1, value)),
            Err(index) => {
                self.entries.insert(index, (key, value));
                None
            }
        }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|index| &self.entries[index].1)
    }

    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|index| &mut self.entries[index].1)
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).is_ok()
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key)
            .ok()
            .map(|index| self.entries.remove(index).1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(key, value)| (key, value))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(key, _)| key)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, value)| value)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, value)| value)
    }

    /// The keys, consuming the map.
    pub fn into_keys(self) -> impl Iterator<Item = K> {
        self.entries.into_iter().map(|(key, _)| key)
    }

    /// Takes every entry out, in key order.
    pub fn drain(&mut self) -> impl Iterator<Item = (K, V)> + '_ {
        self.entries.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_sorted_map() {
        let mut map = SmallMap::new();
        assert_eq!(map.insert(5, "e"), None);
        assert_eq!(map.insert(1, "a"), None);
        assert_eq!(map.insert(3, "c"), None);
        assert_eq!(map.insert(3, "C"), Some("c"));
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), [1, 3, 5]);
        assert_eq!(map.get(&3), Some(&"C"));
        assert!(map.contains_key(&5) && !map.contains_key(&4));
        assert_eq!(map.remove(&1), Some("a"));
        assert_eq!(map.remove(&1), None);
        *map.get_mut(&5).unwrap() = "E";
        assert_eq!(map.drain().collect::<Vec<_>>(), [(3, "C"), (5, "E")]);
        assert!(map.is_empty());
    }

    #[test]
    fn string_keys_are_found_by_str() {
        let mut map: SmallMap<String, usize> = SmallMap::new();
        map.insert("b".into(), 2);
        map.insert("a".into(), 1);
        assert_eq!(map.get("a"), Some(&1));
        assert_eq!(map.len(), 2);
    }
}
