//! What each annotation object says (cancelled, its labels), remembered by bucket, key and
//! ETag: a dataset version counts the labels of every object under the prefix, and without
//! this each version read them all again, one GET per annotation, however few had changed.
//! S3 gives an object new content only with a new ETag, so a remembered answer is exact.

use std::collections::HashMap;
use std::sync::Mutex;

/// The reading of one object: `None` when it is not an annotation Loopline can read.
pub(crate) type Reading = Option<(bool, Vec<String>)>;

/// Objects remembered at most; past it the memory starts over (the next version reads the
/// objects again), which bounds it at a few MB for projects of any size.
const REMEMBERED: usize = 200_000;

#[derive(Default)]
pub(crate) struct AnnotationReads {
    known: Mutex<HashMap<(String, String, String), Reading>>,
}

impl AnnotationReads {
    pub(crate) fn get(&self, bucket: &str, key: &str, etag: &str) -> Option<Reading> {
        let known = self.known.lock().ok()?;
        known
            .get(&(bucket.to_owned(), key.to_owned(), etag.to_owned()))
            .cloned()
    }

    pub(crate) fn remember(&self, bucket: &str, key: &str, etag: &str, reading: Reading) {
        // An object without an ETag cannot be told apart from its next content.
        if etag.is_empty() {
            return;
        }
        if let Ok(mut known) = self.known.lock() {
            if known.len() >= REMEMBERED {
                known.clear();
            }
            known.insert(
                (bucket.to_owned(), key.to_owned(), etag.to_owned()),
                reading,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_known_for_the_same_etag_only() {
        let reads = AnnotationReads::default();
        reads.remember(
            "b",
            "annotations/1",
            "\"e1\"",
            Some((false, vec!["Car".into()])),
        );
        assert_eq!(
            reads.get("b", "annotations/1", "\"e1\""),
            Some(Some((false, vec!["Car".into()])))
        );
        assert_eq!(reads.get("b", "annotations/1", "\"e2\""), None);
        assert_eq!(reads.get("other", "annotations/1", "\"e1\""), None);
    }

    #[test]
    fn an_object_without_an_etag_is_never_remembered() {
        let reads = AnnotationReads::default();
        reads.remember("b", "k", "", None);
        assert_eq!(reads.get("b", "k", ""), None);
    }
}
