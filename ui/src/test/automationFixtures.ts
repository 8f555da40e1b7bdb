import type {
  Automation,
  AutomationDelivery,
  AutomationPreview,
  AutomationRequest,
  ConditionField,
  EventSummary,
} from "../bindings.gen";

type Args = Record<string, unknown> | undefined;

export const CONDITION_FIELDS: ConditionField[] = [
  { name: "annotation.was_cancelled", type: "bool", doc: "True when the annotator skipped the task." },
  { name: "annotation.labels", type: "text_list", doc: "Every label in the annotation's result." },
  { name: "project.id", type: "int", doc: "The project's id." },
  { name: "project.title", type: "text", doc: "Label Studio's project title." },
];

export const automation = (over: Partial<Automation> = {}): Automation => ({
  id: "auto_1",
  name: "Annotations to the db",
  trigger: {
    source_id: "src_ls",
    actions: ["ANNOTATION_CREATED"],
    project_id: null,
    conditions: [],
    fire: { mode: "each" },
  },
  action: { kind: "forward", url: "http://127.0.0.1:9/annotations", secret_name: "fwd", body_template: null },
  dry_run: false,
  paused: false,
  created_at: "2025-03-04T12:00:00.000Z",
  fired: 0,
  count: null,
  fired_bucket: 0,
  ...over,
});

export const delivery = (over: Partial<AutomationDelivery> = {}): AutomationDelivery => ({
  automation_id: "auto_1",
  event_id: 3,
  status: "delivered",
  attempts: 1,
  http_status: 200,
  response: '{"stored": true}',
  error: null,
  decided_at: "2025-03-04T12:00:03.000Z",
  delivered_at: "2025-03-04T12:00:04.000Z",
  ...over,
});

type Store = { events: EventSummary[]; automations: Automation[]; deliveries: AutomationDelivery[] };

/** What the engine would answer, over the fake's events: source, actions and project only. */
function preview(store: Store, req: AutomationRequest): AutomationPreview {
  const unknown = req.trigger.conditions.find((c) => !CONDITION_FIELDS.some((f) => f.name === c.field));
  if (unknown) {
    throw {
      code: "invalid_argument",
      message: `Unknown field '${unknown.field}'. Known fields: ${CONDITION_FIELDS.map((f) => f.name).join(", ")}.`,
    };
  }
  const t = req.trigger;
  const matching = store.events
    .filter((e) => e.source_id === t.source_id && t.actions.includes(e.action ?? "") && (t.project_id === null || e.project_id === t.project_id))
    .slice(0, 50);
  const n = matching.length;
  return {
    considered: n,
    would_fire: matching.map((e) => e.id),
    sentence: n === 0 ? "No stored event matches this trigger's source, actions and project yet, so there is nothing to preview." : `Would have fired ${n} times in the last ${n} matching events.`,
  };
}

export function automationAnswers(store: Store) {
  const find = (id: unknown) => store.automations.find((a) => a.id === id);
  const setPaused = (args: Args, paused: boolean) => {
    const found = find(args?.id);
    if (!found) return new Error(`No automation '${String(args?.id)}'.`);
    const next = { ...found, paused };
    store.automations = store.automations.map((a) => (a.id === next.id ? next : a));
    return next;
  };
  return {
    automation_list: () => store.automations,
    automation_fields: CONDITION_FIELDS,
    automation_preview: (args: Args) => preview(store, args?.request as AutomationRequest),
    automation_add: (args: Args) => {
      const req = args?.request as AutomationRequest;
      if (req.name === "") throw { code: "invalid_argument", message: "An automation needs a name (--name)." };
      const added = automation({ id: `auto_${store.automations.length + 1}`, name: req.name, trigger: req.trigger, action: req.action, dry_run: req.dry_run });
      store.automations = [...store.automations, added];
      return added;
    },
    automation_detail: (args: Args) => {
      const found = find(args?.id);
      if (!found) return new Error(`No automation '${String(args?.id)}'.`);
      return { automation: found, deliveries: store.deliveries.filter((d) => d.automation_id === found.id) };
    },
    automation_pause: (args: Args) => setPaused(args, true),
    automation_resume: (args: Args) => setPaused(args, false),
    automation_remove: (args: Args) => {
      store.automations = store.automations.filter((a) => a.id !== args?.id);
      return null;
    },
  };
}
