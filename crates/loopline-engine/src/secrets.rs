//! Where secrets live: the OS keychain (Secret Service, macOS Keychain, Windows Credential
//! Manager) by default, or environment variables on headless servers (`--secrets env`,
//! read-only). Never a plaintext file, and never a silent fallback from one to the other.

use std::collections::HashMap;
use std::sync::Mutex;

use loopline_core::{ApiError, ErrorCode, Sensitive};

/// The keychain service name every Loopline secret is filed under.
pub const KEYCHAIN_SERVICE: &str = "loopline";

pub trait SecretStore: Send + Sync + 'static {
    fn get(&self, name: &str) -> Result<Option<Sensitive<String>>, ApiError>;
    fn set(&self, name: &str, value: &Sensitive<String>) -> Result<(), ApiError>;
    fn delete(&self, name: &str) -> Result<(), ApiError>;
    /// A word for messages: "keychain" or "environment".
    fn describe(&self) -> &'static str;
    fn writable(&self) -> bool;
}

/// The OS keychain through `keyring`.
pub struct Keychain;

fn keychain_error(e: keyring::Error) -> ApiError {
    ApiError::new(
        ErrorCode::KeychainUnavailable,
        format!(
            "The OS keychain is not available ({}). Unlock or start your keyring (on Linux: gnome-keyring or KWallet \
             with a D-Bus session), or run with --secrets env and provide LOOPLINE_SECRET_* variables.",
            match e {
                keyring::Error::PlatformFailure(_) => "the Secret Service did not answer".to_string(),
                keyring::Error::NoStorageAccess(_) => "access to the keyring was refused or it is locked".to_string(),
                other => other.to_string(),
            }
        ),
    )
}

impl SecretStore for Keychain {
    fn get(&self, name: &str) -> Result<Option<Sensitive<String>>, ApiError> {
        let entry = keyring::Entry::new(KEYCHAIN_SERVICE, name).map_err(keychain_error)?;
        match entry.get_password() {
            Ok(v) => Ok(Some(Sensitive::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(e)),
        }
    }

    fn set(&self, name: &str, value: &Sensitive<String>) -> Result<(), ApiError> {
        keyring::Entry::new(KEYCHAIN_SERVICE, name)
            .and_then(|e| e.set_password(value.expose()))
            .map_err(keychain_error)
    }

    fn delete(&self, name: &str) -> Result<(), ApiError> {
        let entry = keyring::Entry::new(KEYCHAIN_SERVICE, name).map_err(keychain_error)?;
        match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keychain_error(e)),
        }
    }

    fn describe(&self) -> &'static str {
        "keychain"
    }

    fn writable(&self) -> bool {
        true
    }
}

/// `LOOPLINE_SECRET_<NAME>`: upper case, with `-` and `.` turned into `_`.
pub fn env_var_name(name: &str) -> String {
    format!(
        "LOOPLINE_SECRET_{}",
        name.chars()
            .map(|c| if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            })
            .collect::<String>()
    )
}

/// Secrets from the environment: read-only, never written anywhere.
pub struct EnvSecrets;

impl SecretStore for EnvSecrets {
    fn get(&self, name: &str) -> Result<Option<Sensitive<String>>, ApiError> {
        Ok(std::env::var(env_var_name(name))
            .ok()
            .filter(|v| !v.is_empty())
            .map(Sensitive::new))
    }

    fn set(&self, name: &str, _value: &Sensitive<String>) -> Result<(), ApiError> {
        Err(ApiError::new(
            ErrorCode::SecretUnavailable,
            format!(
                "With --secrets env Loopline never stores secrets. Set {} in the environment instead.",
                env_var_name(name)
            ),
        ))
    }

    fn delete(&self, name: &str) -> Result<(), ApiError> {
        Err(ApiError::new(
            ErrorCode::SecretUnavailable,
            format!(
                "With --secrets env Loopline cannot delete secrets. Unset {} instead.",
                env_var_name(name)
            ),
        ))
    }

    fn describe(&self) -> &'static str {
        "environment"
    }

    fn writable(&self) -> bool {
        false
    }
}

/// An in-memory store for tests of one function; the real keychain is tested end to end.
#[derive(Default)]
pub struct MemorySecrets(Mutex<HashMap<String, String>>);

impl SecretStore for MemorySecrets {
    fn get(&self, name: &str) -> Result<Option<Sensitive<String>>, ApiError> {
        Ok(self
            .0
            .lock()
            .ok()
            .and_then(|m| m.get(name).cloned())
            .map(Sensitive::new))
    }

    fn set(&self, name: &str, value: &Sensitive<String>) -> Result<(), ApiError> {
        if let Ok(mut m) = self.0.lock() {
            m.insert(name.to_string(), value.expose().clone());
        }
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), ApiError> {
        if let Ok(mut m) = self.0.lock() {
            m.remove(name);
        }
        Ok(())
    }

    fn describe(&self) -> &'static str {
        "memory"
    }

    fn writable(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::env_var_name;

    #[test]
    fn env_names_follow_the_cli_surface() {
        assert_eq!(
            env_var_name("label-studio-token"),
            "LOOPLINE_SECRET_LABEL_STUDIO_TOKEN"
        );
        assert_eq!(
            env_var_name("source.src_ab12.token"),
            "LOOPLINE_SECRET_SOURCE_SRC_AB12_TOKEN"
        );
    }
}
