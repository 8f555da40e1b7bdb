//! Standard Webhooks payloads: `{type, timestamp, data}`.

use loopline_core::EventKind;

use super::{Envelope, Parsed};

pub(crate) fn parse(env: &Envelope) -> Option<Parsed> {
    let ty = env.type_.string()?;
    let id = env.data.id.text();
    let summary = match &id {
        Some(id) => format!("{ty} ({id})"),
        None => ty.clone(),
    };
    Some(Parsed {
        kind: Some(EventKind::Generic),
        action: Some(ty),
        project_id: env.data.project_id.int(),
        summary,
        ..Parsed::default()
    })
}
