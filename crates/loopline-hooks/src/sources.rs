use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use loopline_core::{Sensitive, SourceKind};

/// One source as the request path sees it: no plaintext tokens, only digests, plus the
/// signing keys of Standard Webhooks sources (held in memory, never written anywhere).
#[derive(Debug)]
pub struct SourceEntry {
    pub id: String,
    pub kind: SourceKind,
    pub name: String,
    /// Digest and expiry (ms; `None` = no expiry) of each accepted token.
    pub digests: Vec<([u8; 32], Option<i64>)>,
    pub signing_keys: Vec<(Sensitive<Vec<u8>>, Option<i64>)>,
    /// False only for an Aquarium source the user added without a secret.
    pub secret_required: bool,
}

impl SourceEntry {
    pub fn live_digests(&self, now_ms: i64) -> Vec<[u8; 32]> {
        self.digests
            .iter()
            .filter(|(_, exp)| exp.is_none_or(|e| e > now_ms))
            .map(|(d, _)| *d)
            .collect()
    }

    pub fn live_keys(&self, now_ms: i64) -> Vec<Sensitive<Vec<u8>>> {
        self.signing_keys
            .iter()
            .filter(|(_, exp)| exp.is_none_or(|e| e > now_ms))
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// The receiver's in-memory view of the sources, swapped whole when they change.
#[derive(Clone, Default)]
pub struct SourceTable(Arc<RwLock<HashMap<String, Arc<SourceEntry>>>>);

impl SourceTable {
    pub fn get(&self, id: &str) -> Option<Arc<SourceEntry>> {
        self.0.read().ok()?.get(id).cloned()
    }

    pub fn replace(&self, entries: Vec<SourceEntry>) {
        let map = entries
            .into_iter()
            .map(|e| (e.id.clone(), Arc::new(e)))
            .collect();
        if let Ok(mut guard) = self.0.write() {
            *guard = map;
        }
    }

    pub fn len(&self) -> usize {
        self.0.read().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
