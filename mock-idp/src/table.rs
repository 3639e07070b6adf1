//! A map of at most `capacity` entries for what every login adds (clients, codes, tokens): a
//! contract server lives through a whole test session, so a full table drops the entry least
//! recently inserted or used to make room, instead of growing.

use std::collections::HashMap;

pub(crate) struct Table<V> {
    entries: HashMap<String, (u64, V)>,
    /// Bumped on every insert and use: an entry's tick is when it was last touched.
    tick: u64,
    capacity: usize,
}

impl<V> Table<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Table {
            entries: HashMap::new(),
            tick: 0,
            capacity: capacity.max(1),
        }
    }

    fn next(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Inserts `value`, first dropping the least recently touched entry if the table is full
    /// (a linear scan: tables are small and this is a mock).
    pub(crate) fn insert(&mut self, key: String, value: V) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (tick, _))| *tick)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        let tick = self.next();
        self.entries.insert(key, (tick, value));
    }

    /// The entry, marked as just used.
    pub(crate) fn touch(&mut self, key: &str) -> Option<&V> {
        let tick = self.next();
        let (t, value) = self.entries.get_mut(key)?;
        *t = tick;
        Some(value)
    }

    /// The entry, leaving its place in line alone.
    pub(crate) fn peek(&self, key: &str) -> Option<&V> {
        self.entries.get(key).map(|(_, v)| v)
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        self.entries.remove(key).map(|(_, v)| v)
    }

    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        self.entries.retain(|_, (_, v)| keep(v));
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_drops_the_least_recently_touched_entry() {
        let mut t = Table::new(2);
        t.insert("a".into(), 1);
        t.insert("b".into(), 2);
        assert_eq!(t.touch("a"), Some(&1));
        t.insert("c".into(), 3);
        assert_eq!(
            (t.peek("a"), t.peek("b"), t.peek("c")),
            (Some(&1), None, Some(&3))
        );
        // Replacing a key does not evict another.
        t.insert("c".into(), 4);
        assert_eq!((t.len(), t.peek("a"), t.peek("c")), (2, Some(&1), Some(&4)));
        assert_eq!(t.remove("a"), Some(1));
        t.retain(|v| *v != 4);
        assert_eq!(t.len(), 0);
    }
}
