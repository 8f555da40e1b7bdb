//! Payload parsing and redaction, on their own: the HTTP receiver parses each body as it
//! is stored, the rules read the stored findings back as typed values
//! (`parse::StoredFindings`), and the timeline's detail pane redacts what it shows. None of
//! them depends on the others through this crate.

pub mod aquarium_issue;
pub mod parse;
pub mod redact;
pub mod redact_scan;
pub mod redact_text;
