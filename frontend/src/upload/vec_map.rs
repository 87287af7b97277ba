//! `VecMap`: the page's maps (by file id, by file and part number), kept as a vector sorted by key.
//!
//! Hand-written for the page's weight: every `HashMap<K, V>` type compiles its own copy of
//! hashbrown's table code and a hasher into the WASM (measured with `cargo xtask size`: the
//! page's seven maps as `VecMap`s weigh 1.8 KB gzip less than as `HashMap`s, and 22 KB less than
//! as `BTreeMap`s). Keys are file ids the page hands out in order, so inserting is a push at
//! the end and lookups a binary search; removing shifts the rest (10,000 files removed one by
//! one: about 12 ms natively).

use std::borrow::Borrow;

/// A map kept as a vector of `(key, value)` sorted by key.
#[derive(Debug, Clone)]
pub struct VecMap<K, V> {
    items: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> VecMap<K, V> {
    pub const fn new() -> Self {
        Self { items: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.items.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.items.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.items.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.items.iter_mut().map(|(_, v)| v)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.items.retain_mut(|(k, v)| keep(k, v));
    }
}

impl<K: Ord, V> VecMap<K, V> {
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        // The common case first: the newest key (ids are handed out in order).
        match self.items.last() {
            Some((last, _)) if last.borrow() < key => Err(self.items.len()),
            _ => self.items.binary_search_by(|(k, _)| k.borrow().cmp(key)),
        }
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|at| &self.items[at].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|at| &mut self.items[at].1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`; the value it had.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.items[at].1, value)),
            Err(at) => {
                self.items.insert(at, (key, value));
                None
            }
        }
    }

    /// The value at `key`, made by `make` first when there is none.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let at = match self.find(&key) {
            Ok(at) => at,
            Err(at) => {
                self.items.insert(at, (key, make()));
                at
            }
        };
        &mut self.items[at].1
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|at| self.items.remove(at).1)
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut map = Self::new();
        for (k, v) in pairs {
            map.insert(k, v);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_map_in_any_order() {
        let mut map = VecMap::new();
        let mut model = std::collections::BTreeMap::new();
        // Keys in order, out of order, repeated, removed: the same answers as a BTreeMap.
        let keys = [1u32, 2, 3, 10, 5, 5, 0, 7, 3, 11, 4, 2];
        for (n, &key) in keys.iter().enumerate() {
            assert_eq!(map.insert(key, n), model.insert(key, n), "insert {key}");
            if n % 3 == 2 {
                let gone = keys[n / 2];
                assert_eq!(map.remove(&gone), model.remove(&gone), "remove {gone}");
            }
            for probe in 0..13 {
                assert_eq!(map.get(&probe), model.get(&probe));
                assert_eq!(map.contains_key(&probe), model.contains_key(&probe));
            }
            assert_eq!(map.len(), model.len());
            assert!(map.iter().eq(model.iter()), "in key order");
        }
        *map.get_mut(&7).unwrap() += 100;
        *map.get_or_insert_with(7, || 0) += 1;
        assert_eq!(*map.get_or_insert_with(12, || 5), 5);
        assert!(map.keys().copied().eq(map.iter().map(|(k, _)| *k)));
        assert_eq!(map.get(&7), Some(&108));
        map.retain(|k, _| k % 2 == 1);
        assert!(map.iter().all(|(k, _)| k % 2 == 1));
        assert_eq!(map.values().count(), map.len());
        let collected: VecMap<u32, u32> = [(3, 0), (1, 1), (2, 2), (1, 3)].into_iter().collect();
        assert_eq!(
            collected.iter().collect::<Vec<_>>(),
            [(&1, &3), (&2, &2), (&3, &0)]
        );
        assert!(VecMap::<u32, ()>::default().is_empty());
    }

    #[test]
    fn tuple_keys() {
        let mut parts = VecMap::new();
        parts.insert((2u32, 1u32), "b1");
        parts.insert((1, 2), "a2");
        parts.insert((1, 1), "a1");
        assert_eq!(parts.get(&(1, 2)), Some(&"a2"));
        parts.retain(|(file, _), _| *file != 1);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts.remove(&(2, 1)), Some("b1"));
    }
}
