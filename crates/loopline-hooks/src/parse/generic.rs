//! Standard Webhooks payloads: `{type, timestamp, data}`.

use loopline_core::EventKind;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::fields::{int, string};
use super::{Envelope, Parsed};

#[derive(Deserialize, Default)]
#[serde(default)]
struct Data<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    project_id: Option<&'a RawValue>,
}

pub(crate) fn parse(env: &Envelope<'_>) -> Option<Parsed> {
    let ty = string(env.type_)?;
    let data = env
        .data
        .and_then(|raw| serde_json::from_str::<Data<'_>>(raw.get()).ok())
        .unwrap_or_default();
    let id = string(data.id).or_else(|| int(data.id).map(|i| i.to_string()));
    let summary = match &id {
        Some(id) => format!("{ty} ({id})"),
        None => ty.clone(),
    };
    Some(Parsed {
        kind: Some(EventKind::Generic),
        action: Some(ty),
        project_id: int(data.project_id),
        summary,
        ..Parsed::default()
    })
}
