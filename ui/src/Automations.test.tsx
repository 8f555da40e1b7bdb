import { describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Automation, AutomationDelivery, AutomationRequest } from "./bindings.gen";
import { automation, delivery } from "./test/automationFixtures";
import { source, summary, timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

type Setup = { automations?: Automation[]; deliveries?: AutomationDelivery[]; answers?: Record<string, unknown>; path?: string };

/** Events 1–3 are ANNOTATION_CREATED on project 7; 4 is a PROJECT_CREATED. */
async function open({ automations = [], deliveries = [], answers = {}, path = "/automations" }: Setup = {}) {
  engine.current = timelineEngine([summary(1), summary(2), summary(3), summary(4, { action: "PROJECT_CREATED", project_id: 9 })], answers);
  Object.assign(engine.current.store, { automations, deliveries, sources: [source(), source({ id: "src_aq", kind: "aquarium", name: "Aquarium" })] });
  const user = userEvent.setup();
  const app = await renderApp(path);
  return { user, app };
}

const calls = (cmd: string) => engine.current!.calls.filter((c) => c.cmd === cmd);
const lastPreview = () => calls("automation_preview").at(-1)?.args?.request as AutomationRequest | undefined;

describe("Automations: the page", () => {
  it("says what to do when there are none, and keeps the retrain rules and runs visible", async () => {
    await open();
    expect(await screen.findByRole("heading", { level: 1, name: "Automations" })).toBeInTheDocument();
    expect(await screen.findByTestId("automations-empty")).toHaveTextContent("forward each new annotation");
    expect(screen.getByTestId("automation-form")).toBeInTheDocument();
    expect(await screen.findByTestId("rules-empty")).toBeInTheDocument();
    expect(await screen.findByTestId("runs-empty")).toHaveTextContent("No runs yet");
    expect(screen.getByRole("heading", { name: "Start a pipeline: retrain rules" })).toBeInTheDocument();
  });

  it("shows each automation with its progress and paused state", async () => {
    await open({
      automations: [
        automation({ fired: 3 }),
        automation({
          id: "auto_2",
          name: "Every 16",
          paused: true,
          trigger: { ...automation().trigger, project_id: 7, fire: { mode: "every", n: 16, counter: "useful" } },
          fired: 1,
          count: 28,
          fired_bucket: 1,
        }),
      ],
    });
    const cards = await screen.findAllByTestId("automation-card");
    expect(cards).toHaveLength(2);
    expect(within(cards[0]!).getByTestId("automation-progress")).toHaveTextContent("fired 3 times");
    expect(cards[0]!).toHaveTextContent("forward to http://127.0.0.1:9/annotations (signed)");
    expect(within(cards[0]!).queryByTestId("automation-paused")).not.toBeInTheDocument();
    expect(within(cards[1]!).getByTestId("automation-progress")).toHaveTextContent("fired once · 12 of 16 toward the next (at 32)");
    expect(within(cards[1]!).getByTestId("automation-paused")).toBeInTheDocument();
    expect(within(cards[1]!).getByTestId("automation-pause")).toHaveTextContent("Resume");
  });

  it("pauses and resumes, and removes only after confirming", async () => {
    const { user } = await open({ automations: [automation()] });
    const card = await screen.findByTestId("automation-card");
    await user.click(within(card).getByTestId("automation-pause"));
    expect(calls("automation_pause").map((c) => c.args)).toEqual([{ id: "auto_1" }]);
    expect(await within(card).findByTestId("automation-paused")).toBeInTheDocument();
    await user.click(within(card).getByTestId("automation-pause"));
    expect(calls("automation_resume").map((c) => c.args)).toEqual([{ id: "auto_1" }]);
    await waitFor(() => expect(within(card).queryByTestId("automation-paused")).not.toBeInTheDocument());

    await user.click(within(card).getByTestId("automation-remove"));
    expect(calls("automation_remove")).toHaveLength(0);
    expect(card).toHaveTextContent("Its deliveries stay as history");
    await user.click(within(card).getByTestId("automation-remove-confirm"));
    expect(calls("automation_remove").map((c) => c.args)).toEqual([{ id: "auto_1" }]);
    expect(await screen.findByTestId("automations-empty")).toBeInTheDocument();
    expect(await screen.findByTestId("toast")).toHaveTextContent("Removed the automation “Annotations to the db”");
  });
});

describe("Automations: the builder", () => {
  it("previews as the trigger changes, once it settles, with links to the events", async () => {
    const { user, app } = await open();
    const form = await screen.findByTestId("automation-form");
    const sentence = await within(form).findByTestId("automation-preview-sentence");
    expect(sentence).toHaveTextContent("Would have fired 3 times in the last 3 matching events.");
    const links = within(form).getAllByTestId("automation-preview-event");
    expect(links.map((a) => a.textContent)).toEqual(["#3", "#2", "#1"]);

    // Typing a name does not ask again: the preview depends on the trigger only.
    const before = calls("automation_preview").length;
    await user.type(within(form).getByTestId("auto-name"), "To the db");
    await user.type(within(form).getByTestId("auto-project"), "9");
    await waitFor(() => expect(lastPreview()?.trigger.project_id).toBe(9));
    expect(calls("automation_preview").length).toBe(before + 1);
    await waitFor(() => expect(within(form).getByTestId("automation-preview-sentence")).toHaveTextContent("No stored event matches"));

    // A second action: PROJECT_CREATED on project 9 matches event 4.
    await user.click(within(form).getByRole("checkbox", { name: "PROJECT_CREATED" }));
    await waitFor(() => expect(within(form).getByTestId("automation-preview-sentence")).toHaveTextContent("Would have fired 1 times"));
    expect(lastPreview()?.trigger.actions).toEqual(["ANNOTATION_CREATED", "PROJECT_CREATED"]);
    await user.click(within(form).getByTestId("automation-preview-event"));
    await waitFor(() => expect(app.path()).toBe("/timeline/4"));
  });

  it("sends conditions typed by their field, and shows an unknown field's refusal inline", async () => {
    const { user } = await open();
    const form = await screen.findByTestId("automation-form");
    await user.click(within(form).getByTestId("condition-add"));
    await waitFor(() =>
      expect(lastPreview()?.trigger.conditions).toEqual([{ field: "annotation.was_cancelled", op: "eq", value: false }]),
    );
    const field = within(form).getByTestId("condition-field");
    await user.clear(field);
    await user.type(field, "annotation.colour");
    await user.type(within(form).getByTestId("condition-value"), "red");
    const problem = await within(form).findByTestId("automation-preview-error");
    expect(problem).toHaveAttribute("data-code", "invalid_argument");
    expect(problem).toHaveTextContent("invalid_argument: Unknown field 'annotation.colour'. Known fields: annotation.was_cancelled");
    // The form keeps what was typed.
    expect(field).toHaveValue("annotation.colour");

    await user.clear(field);
    await user.type(field, "project.id");
    await user.clear(within(form).getByTestId("condition-value"));
    await user.type(within(form).getByTestId("condition-value"), "7");
    await user.selectOptions(within(form).getByTestId("condition-op"), "gt");
    await waitFor(() => expect(lastPreview()?.trigger.conditions).toEqual([{ field: "project.id", op: "gt", value: 7 }]));
    await waitFor(() => expect(within(form).queryByTestId("automation-preview-error")).not.toBeInTheDocument());
  });

  it("saves exactly what the form says; a refusal keeps every field", async () => {
    const refusals = [{ code: "invalid_argument", message: "There is no secret 'fwd'. Store it first with `loopline secret set fwd`." }];
    const { user, app } = await open({
      answers: {
        automation_add: (args: { request: AutomationRequest }) => {
          const refusal = refusals.shift();
          if (refusal) throw refusal;
          const added = automation({ id: "auto_9", name: args.request.name, trigger: args.request.trigger, action: args.request.action });
          engine.current!.store.automations = [added];
          return added;
        },
      },
    });
    const form = await screen.findByTestId("automation-form");
    await user.type(within(form).getByTestId("auto-name"), "To the db");
    await user.selectOptions(within(form).getByTestId("auto-source"), "src_aq");
    await user.click(within(form).getByRole("checkbox", { name: "ANNOTATION_CREATED" }));
    await user.click(within(form).getByRole("checkbox", { name: "issue-exported" }));
    await user.click(within(form).getByTestId("auto-fire-every"));
    await user.clear(within(form).getByTestId("auto-every"));
    await user.type(within(form).getByTestId("auto-every"), "4");
    await user.type(within(form).getByTestId("auto-project"), "7");
    await user.type(within(form).getByTestId("auto-url"), "http://127.0.0.1:9/in");
    await user.type(within(form).getByTestId("auto-secret"), "fwd");
    await user.click(within(form).getByTestId("automation-save"));

    const expected: AutomationRequest = {
      name: "To the db",
      trigger: { source_id: "src_aq", actions: ["issue-exported"], project_id: 7, conditions: [], fire: { mode: "every", n: 4, counter: "useful" } },
      action: { kind: "forward", url: "http://127.0.0.1:9/in", secret_name: "fwd", body_template: null },
      dry_run: false,
    };
    const problem = await within(form).findByTestId("automation-save-error");
    expect(problem).toHaveTextContent("invalid_argument: There is no secret 'fwd'.");
    expect(calls("automation_add").map((c) => c.args)).toEqual([{ request: expected }]);
    expect(within(form).getByTestId("auto-name")).toHaveValue("To the db");
    expect(within(form).getByTestId("auto-url")).toHaveValue("http://127.0.0.1:9/in");
    expect(within(form).getByTestId("auto-every")).toHaveValue("4");

    await user.click(within(form).getByTestId("automation-save"));
    expect(await screen.findByTestId("toast")).toHaveTextContent("Automation added: To the db");
    await waitFor(() => expect(app.path()).toBe("/automations/auto_9"));
    expect(await screen.findByTestId("automation-card")).toHaveTextContent("every 4 issue-exported from Aquarium");
    expect(within(form).getByTestId("auto-name")).toHaveValue("");
    expect(within(form).queryByTestId("automation-save-error")).not.toBeInTheDocument();
  });

  it("builds a notify action", async () => {
    const { user } = await open();
    const form = await screen.findByTestId("automation-form");
    await user.type(within(form).getByTestId("auto-name"), "New projects");
    await user.selectOptions(within(form).getByTestId("auto-kind"), "notify");
    await user.type(within(form).getByTestId("auto-slack"), "slack-team");
    await user.type(within(form).getByTestId("auto-message"), "New project {{project.title}");
    await user.click(within(form).getByTestId("automation-save"));
    await waitFor(() => expect(calls("automation_add")).toHaveLength(1));
    expect((calls("automation_add")[0]!.args!.request as AutomationRequest).action).toEqual({
      kind: "notify",
      desktop: true,
      slack_url_secret: "slack-team",
      message: "New project {project.title}",
    });
  });
});

describe("Automations: an automation's deliveries", () => {
  it("lists each delivery with its status, attempts, HTTP status, answer and event", async () => {
    const { user, app } = await open({
      path: "/automations/auto_1",
      automations: [automation({ fired: 2 })],
      deliveries: [
        delivery({ event_id: 3, status: "failed", attempts: 1, http_status: 400, response: '{"error":"bad"}', error: "The target refused it: HTTP 400", delivered_at: null }),
        delivery({ event_id: 2 }),
      ],
    });
    const detail = await screen.findByTestId("automation-detail");
    expect(within(detail).getByRole("heading", { name: "Annotations to the db" })).toBeInTheDocument();
    const rows = await within(detail).findAllByTestId("automation-delivery");
    expect(rows.map((r) => r.getAttribute("data-status"))).toEqual(["failed", "delivered"]);
    expect(rows[0]!).toHaveTextContent("failed");
    expect(within(rows[0]!).getByTestId("delivery-http")).toHaveTextContent("HTTP 400");
    expect(within(rows[0]!).getByTestId("delivery-response")).toHaveTextContent('{"error":"bad"}');
    expect(rows[0]!).toHaveTextContent("The target refused it: HTTP 400");
    expect(within(rows[1]!).getByTestId("delivery-response")).toHaveTextContent('{"stored": true}');
    expect(rows[1]!).toHaveTextContent("1 attempt");
    expect(screen.getByTestId("automation-card")).toHaveAttribute("data-selected", "true");
    await user.click(within(rows[1]!).getByTestId("delivery-event"));
    await waitFor(() => expect(app.path()).toBe("/timeline/2"));
  });

  it("says when there are no deliveries yet, and closes", async () => {
    const { user, app } = await open({ path: "/automations/auto_1", automations: [automation()] });
    expect(await screen.findByTestId("deliveries-empty")).toHaveTextContent("No deliveries yet");
    await user.click(within(screen.getByTestId("automation-detail")).getByRole("button", { name: "Close" }));
    await waitFor(() => expect(app.path()).toBe("/automations"));
    expect(screen.queryByTestId("automation-detail")).not.toBeInTheDocument();
  });
});

describe("Automations: starting a pipeline", () => {
  const freeze = automation({
    id: "auto_ds",
    name: "Freeze birds",
    trigger: { ...automation().trigger, source_id: "src_ls", project_id: 7 },
    action: { kind: "dataset_version", bucket: "birds", prefix: "annotations", region: "eu-west-1", keep: 10 },
  });

  it("counts every N, trains on a chosen dataset version, and asks before sharing a project with another Loopline", async () => {
    const shared = {
      code: "shared_project",
      message: "Another Loopline already receives project 7's new annotations (webhook 12 to https://laptop2.bore.pub/hooks/src_23456789abcd).",
    };
    const { user } = await open({
      automations: [freeze],
      answers: {
        automation_add: (args: { request: AutomationRequest }) => {
          if (!args.request.even_if_shared) throw shared;
          return automation({ id: "rule_1", name: args.request.name, trigger: args.request.trigger, action: args.request.action });
        },
      },
    });
    const form = await screen.findByTestId("automation-form");
    await user.type(within(form).getByTestId("auto-name"), "Retrain birds");
    await user.type(within(form).getByTestId("auto-project"), "7");
    await user.selectOptions(within(form).getByTestId("auto-kind"), "start_pipeline");
    expect(within(form).getByTestId("auto-fire-each")).toBeDisabled();
    expect(within(form).getByTestId("auto-fire-every")).toBeChecked();
    await user.type(within(form).getByTestId("auto-pipeline"), "retrain-birds");
    await user.click(within(form).getByTestId("auto-params"));
    await user.paste("TrainingCount={count}");
    const dataset = within(form).getByTestId("auto-dataset");
    expect(within(dataset).getAllByRole("option").map((o) => o.textContent)).toEqual([
      "what is in the bucket when the run starts",
      "the newest dataset version of “Freeze birds”",
    ]);
    await user.selectOptions(dataset, "auto_ds");
    await user.click(within(form).getByTestId("automation-save"));

    const warning = await within(form).findByTestId("automation-shared");
    expect(warning).toHaveTextContent("Another Loopline counts this project.");
    expect(warning).toHaveTextContent("webhook 12 to https://laptop2.bore.pub/hooks/src_23456789abcd");
    const first = calls("automation_add")[0]!.args!.request as AutomationRequest;
    expect(first.trigger.fire).toEqual({ mode: "every", n: 16, counter: "useful" });
    expect(first.action).toEqual({
      kind: "start_pipeline",
      pipeline: "retrain-birds",
      params: [{ name: "TrainingCount", value: "{count}" }],
      overlap: "coalesce",
      start_time_limit_secs: 900,
      dataset: "auto_ds",
    });
    expect(first.even_if_shared).toBeUndefined();

    await user.click(within(warning).getByTestId("automation-shared-cancel"));
    expect(within(form).queryByTestId("automation-shared")).not.toBeInTheDocument();
    expect(within(form).getByTestId("auto-pipeline")).toHaveValue("retrain-birds");

    await user.click(within(form).getByTestId("automation-save"));
    await user.click(await within(form).findByTestId("automation-shared-go-on"));
    expect(await screen.findByTestId("toast")).toHaveTextContent("Automation added: Retrain birds");
    expect(calls("automation_add")).toHaveLength(3);
    expect((calls("automation_add")[2]!.args!.request as AutomationRequest).even_if_shared).toBe(true);
  });

  it("refuses a parameter line without a name before calling the engine", async () => {
    const { user } = await open();
    const form = await screen.findByTestId("automation-form");
    await user.type(within(form).getByTestId("auto-name"), "Retrain");
    await user.selectOptions(within(form).getByTestId("auto-kind"), "start_pipeline");
    await user.type(within(form).getByTestId("auto-pipeline"), "p");
    await user.click(within(form).getByTestId("auto-params"));
    await user.paste("=oops");
    await user.click(within(form).getByTestId("automation-save"));
    expect(await within(form).findByTestId("automation-save-error")).toHaveTextContent("Parameter line 1 is not NAME=VALUE");
    expect(calls("automation_add")).toHaveLength(0);
  });
});
