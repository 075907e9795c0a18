//! Per-client shares of a limited resource (requests in flight, WebSockets, connections): a
//! client may hold at most `max` at once, so one address cannot take every place of a
//! server-wide limit by opening many slow requests or idle sockets.
//!
//! The table holds an entry only while a client holds a share, so its size is bounded by the
//! resource it guards, never by the number of clients seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The counter of one resource, shared by every request.
#[derive(Clone)]
pub struct PerClient {
    max: usize,
    held: Arc<Mutex<HashMap<String, usize>>>,
}

/// One share, given back when dropped.
pub struct Share {
    key: String,
    held: Arc<Mutex<HashMap<String, usize>>>,
}

impl PerClient {
    pub fn new(max: usize) -> PerClient {
        PerClient {
            max: max.max(1),
            held: Arc::default(),
        }
    }

    /// A share for `key`, or `None` when the client already holds `max`.
    pub fn try_acquire(&self, key: &str) -> Option<Share> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let n = held.entry(key.to_string()).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Share {
            key: key.to_string(),
            held: self.held.clone(),
        })
    }

    /// How many clients hold a share now.
    pub fn clients(&self) -> usize {
        self.held.lock().map(|h| h.len()).unwrap_or(0)
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = held.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_holds_at_most_max_and_others_are_unaffected() {
        let limit = PerClient::new(2);
        let a1 = limit.try_acquire("a").unwrap();
        let _a2 = limit.try_acquire("a").unwrap();
        assert!(limit.try_acquire("a").is_none());
        assert!(limit.try_acquire("b").is_some());
        drop(a1);
        assert!(limit.try_acquire("a").is_some());
    }

    #[test]
    fn entries_are_forgotten_when_their_last_share_is_given_back() {
        let limit = PerClient::new(3);
        let shares: Vec<_> = (0..100)
            .filter_map(|i| limit.try_acquire(&format!("10.0.0.{i}")))
            .collect();
        assert_eq!(limit.clients(), 100);
        drop(shares);
        assert_eq!(limit.clients(), 0);
    }
}
