//! A bounded cache of stored tiles on this node's disk, in front of a remote store (S3): a
//! tile read once is read from the disk afterwards, until the size bound evicts it, least
//! recently used first. Pyramids are stored under a key per processing and never rewritten,
//! so nothing is ever invalidated; the cache starts empty with each start of the node.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Mutex;

use bytes::Bytes;
use sha2::{Digest, Sha256};

/// Cached tiles in a folder of their own, at most `capacity` bytes of them.
#[derive(Debug)]
pub struct TileDiskCache {
    dir: PathBuf,
    capacity: u64,
    index: Mutex<Index>,
}

/// What the folder holds: each file's size and when it was last used, and the files by use.
#[derive(Debug, Default)]
struct Index {
    entries: HashMap<String, (u64, u64)>,
    by_use: BTreeMap<u64, String>,
    clock: u64,
    bytes: u64,
}

impl Index {
    fn touch(&mut self, name: &str) -> bool {
        let Some((_, used)) = self.entries.get_mut(name) else {
            return false;
        };
        self.by_use.remove(used);
        self.clock += 1;
        *used = self.clock;
        self.by_use.insert(self.clock, name.to_owned());
        true
    }

    fn remove(&mut self, name: &str) {
        if let Some((size, used)) = self.entries.remove(name) {
            self.by_use.remove(&used);
            self.bytes -= size;
        }
    }

    /// Records a file and returns the names evicted to stay within `capacity`.
    fn insert(&mut self, name: String, size: u64, capacity: u64) -> Vec<String> {
        self.remove(&name);
        self.clock += 1;
        self.entries.insert(name.clone(), (size, self.clock));
        self.by_use.insert(self.clock, name);
        self.bytes += size;
        let mut evicted = Vec::new();
        while self.bytes > capacity {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            if let Some((size, _)) = self.entries.remove(&oldest) {
                self.bytes -= size;
            }
            evicted.push(oldest);
        }
        evicted
    }
}

impl TileDiskCache {
    /// A cache in `dir`, emptied first (what an earlier start left is not indexed).
    pub fn open(dir: PathBuf, capacity: u64) -> std::io::Result<Self> {
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            capacity,
            index: Mutex::new(Index::default()),
        })
    }

    fn name(key: &str, range: &Range<u64>) -> String {
        let digest = Sha256::digest(format!("{key}\n{}-{}", range.start, range.end));
        digest.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached bytes of `range` of the object `key`, if they are cached.
    pub async fn get(&self, key: &str, range: &Range<u64>) -> Option<Bytes> {
        let name = Self::name(key, range);
        if !self.index().touch(&name) {
            return None;
        }
        match tokio::fs::read(self.dir.join(&name)).await {
            Ok(bytes) => Some(Bytes::from(bytes)),
            Err(_) => {
                self.index().remove(&name);
                None
            }
        }
    }

    /// Keeps `bytes`, the contents of `range` of `key`, evicting the least recently used
    /// tiles beyond the bound. A failed write only means the tile is not cached.
    pub async fn put(&self, key: &str, range: &Range<u64>, bytes: &Bytes) {
        let size = bytes.len() as u64;
        if size > self.capacity {
            return;
        }
        let name = Self::name(key, range);
        let path = self.dir.join(&name);
        let partial = self.dir.join(format!("{name}.partial"));
        let written = async {
            tokio::fs::write(&partial, bytes).await?;
            tokio::fs::rename(&partial, &path).await
        }
        .await;
        if let Err(error) = written {
            tracing::warn!(%error, "cannot cache a tile on disk");
            let _ = tokio::fs::remove_file(&partial).await;
            return;
        }
        let evicted = self.index().insert(name, size, self.capacity);
        for name in evicted {
            let _ = tokio::fs::remove_file(self.dir.join(name)).await;
        }
    }

    /// The bytes the cached tiles take.
    #[cfg(test)]
    fn bytes(&self) -> u64 {
        self.index().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_tiles_within_its_bound_least_recently_used_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TileDiskCache::open(dir.path().join("tiles"), 25).unwrap();
        let tile = |n: u8| Bytes::from(vec![n; 10]);
        cache.put("p", &(0..10), &tile(1)).await;
        cache.put("p", &(10..20), &tile(2)).await;
        assert_eq!(cache.get("p", &(0..10)).await, Some(tile(1)));
        // a third tile goes past 25 bytes: the least recently used (10..20) goes
        cache.put("p", &(20..30), &tile(3)).await;
        assert_eq!(cache.bytes(), 20);
        assert_eq!(cache.get("p", &(10..20)).await, None);
        assert_eq!(cache.get("p", &(0..10)).await, Some(tile(1)));
        assert_eq!(cache.get("q", &(0..10)).await, None, "another object");
        let files = std::fs::read_dir(dir.path().join("tiles")).unwrap().count();
        assert_eq!(files, 2, "evicted tiles leave the disk");
        // larger than the whole cache: not kept
        cache.put("p", &(0..30), &Bytes::from(vec![0; 30])).await;
        assert_eq!(cache.get("p", &(0..30)).await, None);
        // a new start empties it
        drop(cache);
        let cache = TileDiskCache::open(dir.path().join("tiles"), 25).unwrap();
        assert_eq!(cache.get("p", &(0..10)).await, None);
        assert_eq!(
            std::fs::read_dir(dir.path().join("tiles")).unwrap().count(),
            0
        );
    }
}
