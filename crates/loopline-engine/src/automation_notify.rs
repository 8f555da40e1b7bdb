//! Delivering a notify automation's firing: its message rendered with the event's fields,
//! shown as a desktop notice (once per delivery, through the companion's notice path, with
//! its switch and rate limit) and/or POSTed as `{"text": …}` to a Slack-compatible incoming
//! webhook. The webhook's URL is a keychain secret (it is the credential: anyone holding it
//! can post), so it is read only here, and no error, log line or stored answer names it.

use loopline_core::{
    render_message, render_message_with, ApiError, DeliveryStatus, EventFacts, Notice, NoticeKind,
};
use loopline_store::DeliveryOutcome;

use crate::automation_delivery::refused;
use crate::delivery_error::DeliveryError;
use crate::Engine;

/// What a notify automation does.
pub(crate) struct NotifyTarget<'a> {
    pub automation: &'a str,
    pub desktop: bool,
    pub slack_url_secret: Option<&'a str>,
    pub message: &'a str,
}

/// The Slack URL as it may appear in an error (reqwest's, or the web client's words),
/// replaced by `shown`; whatever is left that still holds it becomes a plain sentence.
fn without_url(e: ApiError, url: &str, shown: &str) -> ApiError {
    let base = url.split('?').next().unwrap_or(url);
    let message = e.message.replace(url, shown).replace(base, shown);
    let path = base.splitn(4, '/').nth(3).unwrap_or_default();
    let message = if !path.is_empty() && message.contains(path) {
        format!("{shown} could not be reached. Check your network; Loopline retries.")
    } else {
        message
    };
    ApiError::new(e.code, message)
}

/// Slack reads `&`, `<` and `>` as control characters (`<url|link>`, `<!here>`): a
/// project titled "<!channel>" must not ping everyone, so they are escaped in the event's
/// values (the user's own template may use Slack's formatting on purpose).
pub fn slack_escaped(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// How a Slack-compatible webhook is named in words: by its secret, never its URL.
pub fn slack_shown(secret: &str) -> String {
    format!("The Slack webhook in secret '{secret}'")
}

/// Whether a secret holds a URL a notify can POST to (checked without repeating it).
pub fn is_webhook_url(value: &str) -> bool {
    let v = value.trim();
    (v.starts_with("https://") || v.starts_with("http://")) && !v.contains(char::is_whitespace)
}

impl Engine {
    pub(crate) async fn deliver_notify(
        &self,
        delivery_id: i64,
        event_id: i64,
        target: &NotifyTarget<'_>,
    ) -> Result<(), DeliveryError> {
        let event = self.store.event(event_id).await?;
        let body = serde_json::from_slice(&event.body).unwrap_or(serde_json::Value::Null);
        let facts = EventFacts::from_body(event.summary.kind.as_str(), &body);
        let message = render_message(target.message, &facts);
        if target.desktop
            && self
                .store
                .claim_desktop_notice(delivery_id, self.clock.now_ms())
                .await?
        {
            let notice = Notice {
                kind: NoticeKind::Automation,
                title: message.clone(),
                body: format!("Automation '{}', event {event_id}.", target.automation),
            };
            self.notify(notice, 1).await;
        }
        let Some(name) = target.slack_url_secret else {
            let outcome = DeliveryOutcome {
                status: DeliveryStatus::Delivered,
                http_status: None,
                response: None,
                error: None,
                now_ms: self.clock.now_ms(),
            };
            self.store.record_delivery(delivery_id, &outcome).await?;
            return Ok(());
        };
        let shown = slack_shown(name);
        let url = self.secret(name).await?.ok_or_else(|| {
            refused(format!(
                "{shown} is not in the keychain. Store the webhook's URL with \
                 `loopline secret set {name}` (read from stdin), then retry."
            ))
        })?;
        let url = url.expose().trim();
        if !is_webhook_url(url) {
            return Err(refused(format!(
                "The secret '{name}' does not hold an http(s) URL. Store the incoming webhook's \
                 URL with `loopline secret set {name}`, then retry."
            )));
        }
        let text = render_message_with(target.message, &facts, slack_escaped);
        let text = serde_json::to_vec(&serde_json::json!({ "text": text }))
            .map_err(|e| DeliveryError::from(ApiError::internal(e.to_string())))?;
        let answer = self
            .web
            .post_body(url, &[], &text)
            .await
            .map_err(|e| without_url(e, url, &shown));
        self.record_answer(delivery_id, &shown, answer).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loopline_core::ErrorCode;

    #[test]
    fn the_url_never_survives_in_an_error() {
        let url = "https://hooks.slack.com/services/T000/B000/XXXXsecret";
        let shown = slack_shown("slack");
        for m in [
            format!("{url} could not be reached: the request failed."),
            "https://hooks.slack.com/services/T000/B000/XXXXsecret?x=1 failed".to_string(),
            "error sending request for url (hooks.slack.com/services/T000/B000/XXXXsecret)"
                .to_string(),
        ] {
            let e = without_url(ApiError::new(ErrorCode::TargetUnavailable, m), url, &shown);
            assert!(!e.message.contains("XXXXsecret"), "{}", e.message);
            assert!(e.message.contains("secret 'slack'"), "{}", e.message);
            assert_eq!(e.code, ErrorCode::TargetUnavailable);
        }
        assert!(is_webhook_url(" https://hooks.slack.com/x\n"));
        assert_eq!(
            slack_escaped("<!channel> & co"),
            "&lt;!channel&gt; &amp; co"
        );
        assert!(!is_webhook_url("xoxb-token"));
    }
}
