//! The scripts Loopline ships for its pipeline, built into the binary: the pipeline
//! runs the copies uploaded from here (never code from anyone else's bucket), and a rerun
//! recognises an uploaded copy by the SHA-256 kept in its metadata.

use sha2::{Digest, Sha256};

pub struct ShippedScript {
    /// Also its folder under the scripts prefix: one prefix per script, because a
    /// processing input downloads everything under its prefix.
    pub name: &'static str,
    pub file: &'static str,
    pub source: &'static str,
}

pub const PREPROCESS: ShippedScript = ShippedScript {
    name: "preprocess",
    file: "preprocess.py",
    source: include_str!("../../pipeline/preprocess.py"),
};

pub const CLEANUP: ShippedScript = ShippedScript {
    name: "cleanup",
    file: "cleanup.py",
    source: include_str!("../../pipeline/cleanup.py"),
};

/// Writes the training job's final metrics where the RegisterModel step reads them.
pub const METRICS: ShippedScript = ShippedScript {
    name: "metrics",
    file: "metrics.py",
    source: include_str!("../../pipeline/metrics.py"),
};

pub const SHIPPED: [&ShippedScript; 3] = [&PREPROCESS, &METRICS, &CLEANUP];

impl ShippedScript {
    pub fn sha256(&self) -> String {
        hex(&Sha256::digest(self.source.as_bytes()))
    }

    /// The `VERSION = "…"` line of the script.
    pub fn version(&self) -> &'static str {
        self.source
            .lines()
            .find_map(|l| l.strip_prefix("VERSION = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or("0")
    }

    /// Its folder under `scripts` (no trailing slash), and its key.
    pub fn folder(&self, scripts: &str) -> String {
        format!("{scripts}/{}", self.name)
    }

    pub fn key(&self, scripts: &str) -> String {
        format!("{}/{}", self.folder(scripts), self.file)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_is_versioned_and_named_by_its_folder() {
        for s in SHIPPED {
            assert!(
                s.version() != "0" && s.version().chars().all(|c| c.is_ascii_digit()),
                "{}",
                s.file
            );
            assert_eq!(s.key("script"), format!("script/{}/{}.py", s.name, s.name));
            assert_eq!(s.sha256().len(), 64);
        }
    }
}
