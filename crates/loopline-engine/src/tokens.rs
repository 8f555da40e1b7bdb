use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use loopline_core::{Entropy, Sensitive};

/// A Label Studio source token: 32 random bytes, URL-safe, recognisable by its prefix.
pub fn new_token(entropy: &dyn Entropy) -> Sensitive<String> {
    let mut bytes = [0u8; 32];
    entropy.fill(&mut bytes);
    Sensitive::new(format!("llt_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_signing_secret(entropy: &dyn Entropy) -> Sensitive<String> {
    let mut bytes = [0u8; 32];
    entropy.fill(&mut bytes);
    Sensitive::new(format!("whsec_{}", STANDARD.encode(bytes)))
}

/// `src_` and 12 characters from an unambiguous alphabet: short enough to read aloud,
/// long enough never to collide in one user's data.
pub fn new_source_id(entropy: &dyn Entropy) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 12];
    entropy.fill(&mut bytes);
    let tail: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("src_{tail}")
}
