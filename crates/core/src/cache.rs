//! A small map whose entries are trusted for a bounded time.
//!
//! The request path reads the same few rows (the caller's key and account, the bucket and its
//! policy) on every request; each of those reads is a hop to a database thread. Entries here are
//! trusted for at most their TTL, and the node that changes a row removes it at once, so
//! staleness is bounded and, on one node, nil.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries of type `V` under keys `K`, each trusted for `ttl` after it was stored.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// A cache trusting entries for `ttl`; when it holds `max_entries` it starts over (so a flood
    /// of distinct keys costs memory once, not without bound).
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The entry for `key` if it is still fresh.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self.entries.lock().ok()?;
        let (at, value) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Stores `value` under `key`, fresh from now.
    pub fn insert(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.max_entries && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), value));
        }
    }

    /// Forgets `key`.
    pub fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    /// Forgets everything.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_removed() {
        let cache: TtlCache<String, u32> = TtlCache::new(Duration::from_mins(1), 10);
        cache.insert("a".into(), 1);
        assert_eq!(cache.get("a"), Some(1));
        cache.remove("a");
        assert_eq!(cache.get("a"), None);

        let expired: TtlCache<String, u32> = TtlCache::new(Duration::ZERO, 10);
        expired.insert("a".into(), 1);
        assert_eq!(expired.get("a"), None, "a zero TTL never serves an entry");
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache: TtlCache<u32, u32> = TtlCache::new(Duration::from_mins(1), 2);
        cache.insert(1, 1);
        cache.insert(2, 2);
        cache.insert(2, 20);
        assert_eq!(cache.get(&1), Some(1), "replacing a key does not evict");
        cache.insert(3, 3);
        assert_eq!(cache.get(&1), None);
        assert_eq!(cache.get(&3), Some(3));
        cache.clear();
        assert_eq!(cache.get(&3), None);
    }
}
