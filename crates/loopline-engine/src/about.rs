//! What a bug report needs: which build this is (version and commit), where its logs are,
//! and "Copy diagnostics" (`loopline diagnostics`): `info --json`, the setup status and the
//! newest log lines in one text with every secret masked.
//!
//! Masking is belt and braces. Keys that name secrets are masked as the payloads are
//! (`redact_scan`); then every value Loopline holds in its secret store (named secrets,
//! each source's token and signing keys) is looked for verbatim and masked, so a secret
//! that reached a log line by some path nobody foresaw still does not leave the machine;
//! then credential shapes (`Bearer …`, AWS key ids) are masked too.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use loopline_core::secret_names::{
    AWS_SECRETS, BORE_SECRET, CLOUDFLARE_TUNNEL_TOKEN, LABELING_SERVICE_API_KEY,
    LABEL_STUDIO_TOKEN, NGROK_AUTHTOKEN, TUNNEL_AUTH_TOKEN,
};
use loopline_core::{ApiError, Diagnostics, Sensitive};
use loopline_payloads::redact_scan::redact_scan;
use loopline_payloads::redact_text::{mask_credential_shapes, mask_values};
use serde_json::json;

use crate::background::{signing_key_secret_name, token_secret_name};
use crate::logs;
use crate::Engine;

/// How many of the newest lines of each log go into the report.
pub const DIAGNOSTIC_LOG_LINES: usize = 200;

static COMMIT: OnceLock<&'static str> = OnceLock::new();

/// Set once by each binary from its build script's `LOOPLINE_COMMIT`: the binaries are
/// relinked on every commit anyway, the engine crate is not rebuilt for it.
pub fn set_commit(commit: &'static str) {
    let _ = COMMIT.set(commit);
}

/// The commit the running binary was built from, or `unknown`.
pub fn commit() -> &'static str {
    COMMIT.get().copied().unwrap_or("unknown")
}

impl Engine {
    /// `loopline diagnostics`: the redacted report behind Settings › About › Copy diagnostics.
    pub async fn diagnostics(&self) -> Result<Diagnostics, ApiError> {
        let info = self.info().await?;
        let setup = match self.setup_status().await {
            Ok(steps) => serde_json::to_value(steps).unwrap_or_default(),
            Err(e) => json!({ "error": e }),
        };
        let (values, unread) = self.stored_secret_values().await;
        let exposed: Vec<&str> = values.iter().map(|v| v.expose().as_str()).collect();
        let mut masked = 0u32;
        let mut scrub = |text: &str| {
            let scanned = redact_scan(text);
            let (text, by_value) = mask_values(&scanned.text, &exposed);
            let (text, by_shape) = mask_credential_shapes(&text);
            masked += scanned.paths.len() as u32 + by_value + by_shape;
            text
        };
        let mut logs = serde_json::Map::new();
        if let Some(dir) = logs::log_dir() {
            for name in logs::LOG_FILES {
                // Each line is scrubbed as it was written, before embedding it in JSON
                // escapes it again (a JSON log line holding a secret with a quote in it).
                let lines: Vec<String> =
                    logs::tail_lines(&dir.join(name), logs::KEEP_FILES, DIAGNOSTIC_LOG_LINES)
                        .iter()
                        .map(|l| scrub(l))
                        .collect();
                if !lines.is_empty() {
                    logs.insert(name.to_string(), json!(lines));
                }
            }
        }
        let report = json!({
            "info": info,
            "setup_status": setup,
            "logs": logs,
            // Said, so a reader knows the verbatim net had holes.
            "secrets_not_read": unread,
        });
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| ApiError::internal(e.to_string()))?;
        let report = scrub(&text);
        Ok(Diagnostics { report, masked })
    }

    /// Every secret value this data directory has in the secret store, and the names that
    /// could not be read (a locked keychain).
    async fn stored_secret_values(&self) -> (Vec<Sensitive<String>>, Vec<String>) {
        let mut names: BTreeSet<String> = self
            .store
            .secret_names()
            .await
            .unwrap_or_default()
            .into_iter()
            .collect();
        names.extend(
            [
                LABEL_STUDIO_TOKEN,
                LABELING_SERVICE_API_KEY,
                TUNNEL_AUTH_TOKEN,
                BORE_SECRET,
                CLOUDFLARE_TUNNEL_TOKEN,
                NGROK_AUTHTOKEN,
            ]
            .into_iter()
            .chain(AWS_SECRETS)
            .map(str::to_string),
        );
        for source in self.store.source_auth_table(0).await.unwrap_or_default() {
            names.insert(token_secret_name(&source.id));
            for (_, digest, _) in &source.secrets {
                names.insert(signing_key_secret_name(&source.id, digest));
            }
        }
        let mut values = Vec::new();
        let mut unread = Vec::new();
        for name in names {
            match self.secret(&name).await {
                Ok(Some(v)) => values.push(v),
                Ok(None) => {}
                Err(_) => unread.push(name),
            }
        }
        (values, unread)
    }
}
