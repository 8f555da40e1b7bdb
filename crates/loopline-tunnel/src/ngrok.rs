//! ngrok: what its agent's errors mean for the user. The in-process agent (the `ngrok`
//! crate) is not linked into this build yet; `loopline tunnel set ngrok` says so instead of
//! saving a tunnel that cannot start.

use loopline_core::{ApiError, ErrorCode};

/// ngrok's error text (it carries an `ERR_NGROK_<n>` code) as a sentence with a fix.
pub fn map_error(text: &str) -> ApiError {
    if text.contains("ERR_NGROK_4018") {
        ApiError::new(ErrorCode::TunnelUnauthorized, "ngrok needs an authtoken: copy yours from https://dashboard.ngrok.com/get-started/your-authtoken and store it with `loopline secret set ngrok-authtoken`.")
    } else if text.contains("ERR_NGROK_105") || text.contains("ERR_NGROK_107") {
        ApiError::new(ErrorCode::TunnelUnauthorized, "ngrok refused the authtoken (it is wrong or was revoked). Store the current one from the ngrok dashboard with `loopline secret set ngrok-authtoken`.")
    } else if text.contains("ERR_NGROK_108") {
        ApiError::new(ErrorCode::TunnelRateLimited, "Your ngrok account already has an agent session running elsewhere (free accounts allow one). Stop the other ngrok agent, then Loopline reconnects.")
    } else if text.contains("ERR_NGROK_") {
        ApiError::new(
            ErrorCode::TunnelStartFailed,
            format!("ngrok refused the tunnel: {text}"),
        )
    } else {
        ApiError::new(
            ErrorCode::TunnelStartFailed,
            format!("ngrok could not start: {text}"),
        )
    }
}

/// Refusal for `tunnel set ngrok` while the agent is not linked in.
pub fn not_built() -> ApiError {
    ApiError::new(
        ErrorCode::TunnelStartFailed,
        "This build of Loopline does not include the ngrok agent yet. Use cloudflared (no account needed), your own bore server, or your own URL (`loopline tunnel set url --public-url URL` with `ngrok http 8787` running beside it).",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ngrok_errors_read_as_sentences_with_a_fix() {
        let e = map_error("failed to connect session: ERR_NGROK_4018 authentication failed");
        assert_eq!(e.code, ErrorCode::TunnelUnauthorized);
        assert!(e.message.contains("loopline secret set ngrok-authtoken"));
        let e = map_error(
            "ERR_NGROK_108: Your account is limited to 1 simultaneous ngrok agent sessions.",
        );
        assert_eq!(e.code, ErrorCode::TunnelRateLimited);
        assert!(e.message.contains("Stop the other ngrok agent"));
        assert_eq!(
            map_error("ERR_NGROK_9999 x").code,
            ErrorCode::TunnelStartFailed
        );
    }
}
