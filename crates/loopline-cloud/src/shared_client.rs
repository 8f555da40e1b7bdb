//! HTTP clients made once per process. Building a reqwest client reads and parses the OS's
//! trust store, which costs more than the call it is built for.

use std::sync::OnceLock;

use loopline_core::ApiError;
use reqwest::{Client, ClientBuilder};

/// The client in `slot`, built by `configure` on first use.
pub(crate) fn shared_client(
    slot: &'static OnceLock<Client>,
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Result<Client, ApiError> {
    if let Some(c) = slot.get() {
        return Ok(c.clone());
    }
    let c = configure(Client::builder())
        .build()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(slot.get_or_init(|| c).clone())
}
