//! Every name Loopline files a secret under, in one place: the engine, the CLI and (through
//! the generated bindings) the UI read them from here.

pub const LABEL_STUDIO_TOKEN: &str = "label-studio-token";
pub const AWS_ACCESS_KEY_ID: &str = "aws-access-key-id";
pub const AWS_SECRET_ACCESS_KEY: &str = "aws-secret-access-key";
pub const AWS_SESSION_TOKEN: &str = "aws-session-token";
pub const LABELING_SERVICE_API_KEY: &str = "labeling-service-api-key";
pub const TUNNEL_AUTH_TOKEN: &str = "tunnel-auth-token";
/// The shared secret of the user's own bore server (`bore server --secret`).
pub const BORE_SECRET: &str = "bore-secret";
/// A Cloudflare named tunnel's token (`cloudflared tunnel run --token`, passed by env).
pub const CLOUDFLARE_TUNNEL_TOKEN: &str = "cloudflare-tunnel-token";
/// The ngrok agent's authtoken.
pub const NGROK_AUTHTOKEN: &str = "ngrok-authtoken";

/// The AWS credentials' names: a change to any of them makes the cached AWS configuration
/// stale.
pub const AWS_SECRETS: [&str; 3] = [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN];

/// Names the Credentials screen suggests, with what each is for.
pub const SUGGESTED: [(&str, &str); 2] = [
    (
        LABELING_SERVICE_API_KEY,
        "API key of the labeling service Aquarium issues are exported to",
    ),
    (
        TUNNEL_AUTH_TOKEN,
        "Auth token for the tunnel that exposes the receiver",
    ),
];

/// A source's token (Label Studio, Aquarium) or shared secret.
pub fn source_token(source_id: &str) -> String {
    format!("source.{source_id}.token")
}

/// A Standard Webhooks source's signing key, named by a digest prefix so the keychain entry
/// can be written before the database row exists (a source is never half-created when the
/// keychain says no).
pub fn source_signing_key(source_id: &str, digest: &[u8]) -> String {
    let tag: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("source.{source_id}.key.{tag}")
}

/// The TypeScript module part the UI imports (appended to the generated bindings).
pub fn typescript() -> String {
    let mut out = String::from("export const SECRET_NAMES = {\n");
    for (k, v) in [
        ("labelStudioToken", LABEL_STUDIO_TOKEN),
        ("awsAccessKeyId", AWS_ACCESS_KEY_ID),
        ("awsSecretAccessKey", AWS_SECRET_ACCESS_KEY),
        ("awsSessionToken", AWS_SESSION_TOKEN),
        ("labelingServiceApiKey", LABELING_SERVICE_API_KEY),
        ("tunnelAuthToken", TUNNEL_AUTH_TOKEN),
        ("boreSecret", BORE_SECRET),
        ("cloudflareTunnelToken", CLOUDFLARE_TUNNEL_TOKEN),
        ("ngrokAuthtoken", NGROK_AUTHTOKEN),
    ] {
        out.push_str(&format!("  {k}: {v:?},\n"));
    }
    out.push_str("} as const;\n\nexport const SUGGESTED_SECRETS: ReadonlyArray<readonly [string, string]> = [\n");
    for (name, what) in SUGGESTED {
        out.push_str(&format!("  [{name:?}, {what:?}],\n"));
    }
    out.push_str("];\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names_are_stable() {
        assert_eq!(source_token("src_1"), "source.src_1.token");
        assert_eq!(
            source_signing_key("src_1", &[0xab, 0xcd, 1, 2, 3, 4, 5]),
            "source.src_1.key.abcd01020304"
        );
    }
}
