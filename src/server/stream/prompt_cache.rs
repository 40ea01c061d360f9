//! Audio for lines the agent says again and again (the greeting, "one moment", the reprompts),
//! synthesized once and reused by every call. Lines with a caller's name or a time in them
//! rarely repeat and age out.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

pub struct PromptCache {
    inner: Mutex<Entries>,
    max_entries: usize,
}

#[derive(Default)]
struct Entries {
    audio: HashMap<String, Arc<[u8]>>,
    /// Insertion order, oldest first, for eviction.
    order: VecDeque<String>,
}

impl PromptCache {
    pub fn new(max_entries: usize) -> PromptCache {
        PromptCache {
            inner: Mutex::new(Entries::default()),
            max_entries,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, text: &str) -> Option<Arc<[u8]>> {
        self.lock().audio.get(text).cloned()
    }

    pub fn insert(&self, text: &str, audio: Vec<u8>) {
        if audio.is_empty() {
            return;
        }
        let mut entries = self.lock();
        if entries.audio.contains_key(text) {
            return;
        }
        while entries.audio.len() >= self.max_entries {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            entries.audio.remove(&oldest);
        }
        entries.audio.insert(text.to_string(), audio.into());
        entries.order.push_back(text.to_string());
    }

    pub fn len(&self) -> usize {
        self.lock().audio.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_audio_and_evicts_the_oldest() {
        let cache = PromptCache::new(2);
        cache.insert("hello", vec![1, 2]);
        cache.insert("one moment", vec![3]);
        assert_eq!(cache.get("hello").as_deref(), Some(&[1u8, 2][..]));
        cache.insert("goodbye", vec![4]);
        assert!(cache.get("hello").is_none());
        assert_eq!(cache.len(), 2);
        cache.insert("empty", vec![]);
        assert!(cache.get("empty").is_none());
    }
}
