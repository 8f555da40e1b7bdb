import { describe, expect, it, vi } from "vitest";
import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { CountPoint, RetrainRule, Run, Source } from "./bindings.gen";
import { point, rule, run, source, summary, timelineEngine } from "./test/fixtures";
import { renderApp, renderWithQuery } from "./test/render";
import { RuleForm } from "./components/RuleForm";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));


type Setup = {
  rules?: RetrainRule[];
  runs?: Run[];
  points?: Record<string, CountPoint[]>;
  sources?: Source[];
  answers?: Record<string, unknown>;
};

async function openRuns({ rules = [], runs = [], points = {}, sources = [source()], answers = {} }: Setup = {}) {
  engine.current = timelineEngine([summary(1)], answers);
  Object.assign(engine.current.store, { rules, runs, points, sources });
  const user = userEvent.setup();
  await renderApp();
  await user.click(screen.getByRole("link", { name: "Automations" }));
  return user;
}

const calls = (cmd: string) => engine.current!.calls.filter((c) => c.cmd === cmd);

describe("Runs: rules", () => {
  it("explains rules when there are none and offers the form", async () => {
    await openRuns();
    expect(await screen.findByTestId("rules-empty")).toHaveTextContent("starts a SageMaker pipeline");
    // One builder for every kind: the retrain rules are its "Start a SageMaker pipeline".
    expect(screen.getByTestId("automation-form")).toBeInTheDocument();
    expect(screen.queryByTestId("rule-form")).not.toBeInTheDocument();
    expect(within(screen.getByTestId("auto-kind")).getByRole("option", { name: "Start a SageMaker pipeline (retrain)" })).toBeInTheDocument();
    expect(await screen.findByTestId("runs-empty")).toHaveTextContent("No runs yet");
    expect(screen.queryByTestId("rule-chart")).not.toBeInTheDocument();
  });

  it("shows each rule with its progress sentence, bar and badges", async () => {
    await openRuns({
      rules: [
        rule(),
        rule({
          id: "rule_2",
          every: 10,
          count: 25,
          fired_bucket: 2,
          counter: "total",
          overlap: "skip",
          dry_run: true,
          pipeline: "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/cells",
          progress: "5 of 10 annotations toward the next retrain (at 30)",
        }),
      ],
    });
    const cards = await screen.findAllByTestId("rule-card");
    expect(cards).toHaveLength(2);

    const sentences = screen.getAllByTestId("rule-progress");
    expect(sentences.map((s) => [s.getAttribute("data-rule-id"), s.textContent])).toEqual([
      ["rule_1", "12 of 16 useful annotations toward the next retrain (at 16)"],
      ["rule_2", "5 of 10 annotations toward the next retrain (at 30)"],
    ]);
    const bars = screen.getAllByRole("progressbar");
    expect(bars.map((b) => [b.getAttribute("aria-valuenow"), b.getAttribute("aria-valuemax")])).toEqual([
      ["12", "16"],
      ["5", "10"],
    ]);
    expect(bars[0]).toHaveAccessibleName("12 of 16 useful annotations toward the next retrain (at 16)");

    expect(cards[0]).toHaveTextContent("retrain-birds");
    expect(cards[0]).toHaveTextContent("project 7 via Bird parts LS");
    expect(cards[0]).toHaveTextContent("every 16 useful annotations");
    expect(cards[0]).toHaveTextContent("overlap: coalesce");
    expect(cards[0]).not.toHaveTextContent("dry run");
    expect(cards[1]).toHaveTextContent("every 10 annotations");
    expect(cards[1]).toHaveTextContent("dry run");
    expect(cards[1]).toHaveTextContent("overlap: skip");
  });

  it("puts the next retrain in the status bar, whichever page is open", async () => {
    await openRuns({ rules: [rule(), rule({ id: "rule_2", dry_run: true })] });
    const item = await screen.findByTestId("statusbar-retrain");
    expect(item).toHaveTextContent("12 of 16 to the next retrain (+1 more rule)");
  });

  it("removes a rule only after confirming", async () => {
    const user = await openRuns({ rules: [rule()] });
    await user.click(await screen.findByTestId("rule-remove"));
    expect(calls("rule_remove")).toHaveLength(0);
    await user.click(screen.getByTestId("rule-remove-confirm"));
    expect(calls("rule_remove")).toEqual([{ cmd: "rule_remove", args: { id: "rule_1" } }]);
    expect(await screen.findByTestId("rules-empty")).toBeInTheDocument();
  });

  it("follows runs-changed pushes", async () => {
    await openRuns({ rules: [rule()] });
    expect(await screen.findByTestId("rule-progress")).toHaveTextContent("12 of 16");
    engine.current!.store.rules = [rule({ count: 15, progress: "15 of 16 useful annotations toward the next retrain (at 16)" })];
    engine.current!.store.runs = [run(1, { status: "executing", finished_at: null })];
    act(() => engine.current!.emit("runs-changed", 2));
    await waitFor(() => expect(screen.getByTestId("rule-progress")).toHaveTextContent("15 of 16"));
    expect(screen.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "15");
    expect(await screen.findByTestId("run-row")).toHaveAttribute("data-status", "executing");
  });
});

/** The rule form alone, as Setup's last step shows it: Label Studio sources only. */
async function openForm({ sources = [source()], answers = {} }: { sources?: Source[]; answers?: Record<string, unknown> } = {}) {
  engine.current = timelineEngine([summary(1)], answers);
  Object.assign(engine.current.store, { sources });
  const added = vi.fn();
  renderWithQuery(<RuleForm sources={sources} onAdded={added} onAddSource={() => {}} />);
  return { user: userEvent.setup(), added };
}

describe("Runs: adding a rule", () => {
  it("sends exactly what was typed, with parameters parsed from NAME=VALUE lines", async () => {
    const { user, added } = await openForm({ sources: [source(), source({ id: "src_ls2", name: "Cells LS" })] });
    const form = await screen.findByTestId("rule-form");
    const select = within(form).getByTestId("rule-source");
    await waitFor(() => expect(within(select).getAllByRole("option")).toHaveLength(2));
    expect(within(select).getAllByRole("option").map((o) => o.textContent)).toEqual(["Bird parts LS", "Cells LS"]);
    expect(within(form).getByTestId("rule-every")).toHaveValue("16");
    expect(within(form).getByLabelText("Start time limit (minutes)")).toHaveValue("15");

    await user.selectOptions(select, "src_ls2");
    await user.type(within(form).getByLabelText("Project number"), "7");
    await user.clear(within(form).getByTestId("rule-every"));
    await user.type(within(form).getByTestId("rule-every"), "20");
    await user.type(within(form).getByLabelText("Pipeline name or ARN"), "retrain-cells");
    await user.click(within(form).getByTestId("rule-params"));
    await user.paste("TrainingCount={count}\n\n  Project = {project_id}\nNote=a=b\n");
    await user.selectOptions(within(form).getByLabelText("Counter"), "total");
    await user.selectOptions(within(form).getByLabelText("While a run executes"), "skip");
    await user.click(within(form).getByTestId("rule-dry-run"));
    await user.clear(within(form).getByLabelText("Start time limit (minutes)"));
    await user.type(within(form).getByLabelText("Start time limit (minutes)"), "30");
    await user.click(within(form).getByTestId("rule-add"));

    expect(calls("rule_add")).toEqual([
      {
        cmd: "rule_add",
        args: {
          rule: {
            source_id: "src_ls2",
            project_id: 7,
            every: 20,
            pipeline: "retrain-cells",
            params: [
              { name: "TrainingCount", value: "{count}" },
              { name: "Project", value: "{project_id}" },
              { name: "Note", value: "a=b" },
            ],
            counter: "total",
            overlap: "skip",
            dry_run: true,
            start_time_limit_secs: 1800,
            start_count: null,
          },
        },
      },
    ]);
    await waitFor(() => expect(added).toHaveBeenCalledTimes(1));
    expect(screen.queryByTestId("rule-error")).not.toBeInTheDocument();
  });

  it("shows the engine's refusal as an alert", async () => {
    const { user } = await openForm({
      answers: {
        rule_add: () => {
          throw { code: "invalid_argument", message: "'every' must be at most 100000." };
        },
      },
    });
    await user.type(screen.getByTestId("rule-project"), "7");
    await user.type(screen.getByTestId("rule-pipeline"), "retrain-birds");
    await user.click(screen.getByTestId("rule-add"));
    const alert = await screen.findByTestId("rule-error");
    expect(alert).toHaveAttribute("role", "alert");
    expect(alert).toHaveTextContent("'every' must be at most 100000.");
    expect(calls("rule_add")[0]?.args).toMatchObject({ rule: { every: 16, counter: "useful", overlap: "coalesce", dry_run: false, start_time_limit_secs: 900, params: [] } });
  });

  it("asks for the project's count when Label Studio cannot be asked, and sends it", async () => {
    let tries = 0;
    const { user } = await openForm({
      answers: {
        rule_add: (args: Record<string, unknown>) => {
          tries += 1;
          if ((args.rule as { start_count: number | null }).start_count === null)
            throw { code: "start_count_unknown", message: "Loopline could not ask Label Studio how many annotations project 7 has." };
          return rule({ project_id: 7, count: 40, fired_bucket: 2 });
        },
      },
    });
    expect(screen.queryByTestId("rule-start-count")).not.toBeInTheDocument();
    await user.type(screen.getByTestId("rule-project"), "7");
    await user.type(screen.getByTestId("rule-pipeline"), "retrain-birds");
    await user.click(screen.getByTestId("rule-add"));
    expect(await screen.findByTestId("rule-error")).toHaveTextContent("could not ask Label Studio");
    const count = await screen.findByTestId("rule-start-count");
    await user.click(screen.getByTestId("rule-add"));
    expect(await screen.findByRole("alert")).toHaveTextContent("annotation count now");
    expect(tries).toBe(1);
    await user.type(count, "40");
    await user.click(screen.getByTestId("rule-add"));
    await waitFor(() => expect(tries).toBe(2));
    expect(calls("rule_add")[1]?.args).toMatchObject({ rule: { project_id: 7, start_count: 40 } });
  });

  it("refuses a parameter line without a name before calling the engine", async () => {
    const { user } = await openForm();
    await user.type(screen.getByTestId("rule-project"), "7");
    await user.type(screen.getByTestId("rule-pipeline"), "p");
    await user.click(screen.getByTestId("rule-params"));
    await user.paste("A=1\n=oops");
    await user.click(screen.getByTestId("rule-add"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Parameter line 2 is not NAME=VALUE");
    expect(calls("rule_add")).toHaveLength(0);
  });

  it("names another Loopline's webhook and adds the rule only when the user goes on", async () => {
    const shared = { code: "shared_project", message: "Another Loopline already receives project 7's new annotations (webhook 3 to https://laptop2.bore.pub/hooks/src_23456789abcd)." };
    const { user, added } = await openForm({
      answers: {
        rule_add: (args: Record<string, unknown>) => {
          if (!(args.rule as { even_if_shared?: boolean }).even_if_shared) throw shared;
          return rule({ project_id: 7 });
        },
      },
    });
    await user.type(screen.getByTestId("rule-project"), "7");
    await user.type(screen.getByTestId("rule-pipeline"), "retrain-birds");
    await user.click(screen.getByTestId("rule-add"));
    const notice = await screen.findByTestId("rule-shared");
    expect(notice).toHaveAttribute("role", "alertdialog");
    expect(notice).toHaveTextContent("webhook 3 to https://laptop2.bore.pub/hooks/src_23456789abcd");
    expect(screen.queryByTestId("rule-error")).not.toBeInTheDocument();
    expect(added).not.toHaveBeenCalled();
    expect((calls("rule_add")[0]!.args!.rule as { even_if_shared?: boolean }).even_if_shared).toBeUndefined();

    await user.click(screen.getByTestId("rule-shared-go-on"));
    await waitFor(() => expect(added).toHaveBeenCalledTimes(1));
    expect((calls("rule_add")[1]!.args!.rule as { even_if_shared?: boolean }).even_if_shared).toBe(true);
    expect(screen.queryByTestId("rule-shared")).not.toBeInTheDocument();
  });

  it("cancels: nothing is added and the form keeps what was typed", async () => {
    const { user, added } = await openForm({
      answers: { rule_add: () => { throw { code: "shared_project", message: "Another Loopline already receives project 7's new annotations." }; } },
    });
    await user.type(screen.getByTestId("rule-project"), "7");
    await user.type(screen.getByTestId("rule-pipeline"), "retrain-birds");
    await user.click(screen.getByTestId("rule-add"));
    await user.click(await screen.findByTestId("rule-shared-cancel"));
    expect(screen.queryByTestId("rule-shared")).not.toBeInTheDocument();
    expect(screen.getByTestId("rule-pipeline")).toHaveValue("retrain-birds");
    expect(calls("rule_add")).toHaveLength(1);
    expect(added).not.toHaveBeenCalled();
  });
});

describe("Runs: the list and the detail", () => {
  const failed = run(3, {
    status: "start_failed",
    error: "AccessDenied: the role may not call sagemaker:StartPipelineExecution.",
    started_at: null,
    finished_at: null,
    execution_arn: null,
    console_url: null,
    steps: null,
    steps_note: null,
    attempts: 4,
  });

  it("shows each run's status in words, trigger and duration", async () => {
    await openRuns({
      runs: [
        run(6, { status: "would_start", started_at: null, finished_at: null }),
        run(5, { status: "held", started_at: null, finished_at: null }),
        run(4, { status: "executing", finished_at: null, count: 100, bucket_from: 4, bucket_to: 6 }),
        failed,
        run(2, { status: "skipped", started_at: null, finished_at: null }),
        run(1),
      ],
    });
    const rows = await screen.findAllByTestId("run-row");
    expect(rows.map((r) => [r.getAttribute("data-run-id"), r.getAttribute("data-status")])).toEqual([
      ["6", "would_start"],
      ["5", "held"],
      ["4", "executing"],
      ["3", "start_failed"],
      ["2", "skipped"],
      ["1", "succeeded"],
    ]);
    const words = rows.map((r) => within(r).getByTestId("run-status").textContent);
    expect(words).toEqual([
      "Would start (dry run)",
      "Held (starts after the current run)",
      "Executing",
      "Start failed",
      "Skipped",
      "Succeeded",
    ]);
    expect(rows[2]).toHaveTextContent("event 104 at 100, covers 4–6");
    expect(rows[2]).toHaveTextContent(/running \d/);
    expect(rows[5]).toHaveTextContent("event 101 at 16");
    expect(rows[5]).not.toHaveTextContent("covers");
    expect(rows[5]).toHaveTextContent("4 min 10 s");
    expect(rows[5]).toHaveTextContent("retrain-birds");
  });

  it("shows why a start failed and retries it now", async () => {
    const user = await openRuns({ runs: [failed, run(1)] });
    await user.click((await screen.findAllByTestId("run-row"))[0]!);
    const detail = await screen.findByTestId("run-detail");
    expect(within(detail).getByTestId("run-error")).toHaveTextContent("AccessDenied: the role may not call sagemaker:StartPipelineExecution.");
    expect(within(detail).getByTestId("run-attempts")).toHaveTextContent("4");
    expect(within(detail).queryByTestId("run-console-link")).not.toBeInTheDocument();

    await user.click(within(detail).getByTestId("run-retry"));
    expect(calls("run_retry")).toEqual([{ cmd: "run_retry", args: { id: 3 } }]);
    await waitFor(() => expect(screen.getAllByTestId("run-row")[0]).toHaveAttribute("data-status", "pending"));
    expect(within(detail).queryByTestId("run-retry")).not.toBeInTheDocument();
    expect(within(detail).getByTestId("run-status")).toHaveTextContent("Pending");
  });

  it("names the dataset version a run trains on", async () => {
    const manifest = "s3://birds/datasets/auto_ds/v3/manifest.json";
    const user = await openRuns({ runs: [run(2, { dataset_manifest: manifest }), run(1)] });
    await user.click(await screen.findByRole("button", { name: "Open run 2" }));
    const detail = await screen.findByTestId("run-detail");
    expect(within(detail).getByTestId("run-dataset")).toHaveTextContent(`v3 of auto_ds: ${manifest}`);
    await user.click(screen.getByRole("button", { name: "Open run 1" }));
    await waitFor(() => expect(screen.queryByTestId("run-dataset")).not.toBeInTheDocument());
  });

  it("has no retry for a run that did not fail to start", async () => {
    const user = await openRuns({ runs: [run(1)] });
    await user.click(await screen.findByRole("button", { name: "Open run 1" }));
    const detail = await screen.findByTestId("run-detail");
    expect(within(detail).queryByTestId("run-retry")).not.toBeInTheDocument();
    expect(within(detail).queryByTestId("run-error")).not.toBeInTheDocument();
    expect(within(detail).queryByTestId("run-attempts")).not.toBeInTheDocument();
  });

  it("shows the parameters, the console link and the steps", async () => {
    const user = await openRuns({
      runs: [
        run(2, {
          status: "executing",
          finished_at: null,
          params: [
            { name: "TrainingCount", value: "32" },
            { name: "ProjectId", value: "7" },
          ],
          steps: null,
          steps_note: "Steps are not available from this SageMaker endpoint.",
        }),
        run(1, {
          status: "failed",
          failure_reason: "Step Train failed.",
          steps: [
            { name: "Prepare", status: "Succeeded", failure_reason: null, model_package_arn: null },
            { name: "Train", status: "Failed", failure_reason: "ClientError: out of memory", model_package_arn: null },
          ],
        }),
      ],
    });
    const rows = await screen.findAllByTestId("run-row");
    await user.click(rows[1]!);
    let detail = await screen.findByTestId("run-detail");
    expect(within(detail).getByRole("heading", { name: "Run #1" })).toBeInTheDocument();
    const link = within(detail).getByTestId("run-console-link");
    expect(link).toHaveAttribute("href", run(1).console_url);
    await user.click(link);
    await waitFor(() => expect(engine.current!.calls.some((c) => c.cmd === "run_open_console" && c.args?.id === 1)).toBe(true));
    expect(link).toHaveAttribute("target", "_blank");
    expect(link).toHaveAttribute("rel", "noreferrer");
    expect(link).toHaveTextContent("Open in the AWS console");
    expect(detail).toHaveTextContent(run(1).execution_arn!);
    expect(within(detail).getByTestId("run-failure")).toHaveTextContent("Step Train failed.");
    const steps = within(detail).getAllByTestId("run-step");
    expect(steps.map((s) => s.textContent)).toEqual(["Prepare Succeeded", "Train FailedClientError: out of memory"]);
    expect(within(detail).queryByTestId("run-steps-note")).not.toBeInTheDocument();

    await user.click(rows[0]!);
    await waitFor(() => expect(screen.getByRole("heading", { name: "Run #2" })).toBeInTheDocument());
    detail = screen.getByTestId("run-detail");
    const params = within(detail).getByTestId("run-params");
    const cells = within(params)
      .getAllByRole("row")
      .slice(1)
      .map((r) => within(r).getAllByRole("cell").map((c) => c.textContent));
    expect(cells).toEqual([
      ["TrainingCount", "32"],
      ["ProjectId", "7"],
    ]);
    expect(within(detail).getByTestId("run-steps-note")).toHaveTextContent("Steps are not available from this SageMaker endpoint.");
    expect(within(detail).queryByTestId("run-step")).not.toBeInTheDocument();
    expect(calls("run_show").map((c) => c.args)).toContainEqual({ id: 2 });

    await user.click(within(detail).getByRole("button", { name: "Close" }));
    expect(screen.queryByTestId("run-detail")).not.toBeInTheDocument();
  });
});

describe("Runs: the chart", () => {
  it("draws the thresholds and one marker per run, labelled", async () => {
    const user = await openRuns({
      rules: [
        rule({ count: 36, fired_bucket: 2, progress: "4 of 16 useful annotations toward the next retrain (at 48)" }),
        rule({ id: "rule_2", every: 10, count: null, progress: "waiting for the first annotation event (every 10 annotations)", counter: "total" }),
      ],
      runs: [
        run(2, { count: 36, bucket_from: 2, bucket_to: 2, created_at: point(40, 36).at, status: "executing", finished_at: null }),
        run(1, { count: 16, created_at: point(20, 16).at, status: "failed" }),
      ],
      points: { rule_1: [point(0, 3), point(10, 10), point(20, 16), point(30, 20), point(40, 36)] },
    });

    const chart = await screen.findByTestId("rule-chart");
    expect(chart.tagName.toLowerCase()).toBe("svg");
    expect(chart).toHaveAttribute("role", "img");
    expect(chart).toHaveAttribute("aria-label", "Useful annotations over time: 36 now; runs at 16 and 36");
    const thresholds = within(chart).getAllByTestId("chart-threshold");
    expect(thresholds.map((t) => t.getAttribute("data-count"))).toEqual(["16", "32", "48"]);
    const markers = within(chart).getAllByTestId("chart-run");
    expect(markers.map((m) => [m.getAttribute("data-run-id"), m.getAttribute("data-status"), m.textContent])).toEqual([
      ["1", "failed", "Run 1: Failed, at 16 useful annotations#1"],
      ["2", "executing", "Run 2: Executing, at 36 useful annotations#2"],
    ]);
    expect(within(chart).getByTestId("chart-line").getAttribute("d")).toMatch(/^M[\d.]+ [\d.]+( H[\d.]+ V[\d.]+){4} H[\d.]+$/);
    expect(calls("rule_history")[0]?.args).toEqual({ id: "rule_1" });

    // Clicking another rule charts it; with no counts yet there is one threshold and no line.
    await user.click(screen.getAllByTestId("rule-card")[1]!);
    await waitFor(() => expect(screen.getByTestId("rule-chart")).toHaveAttribute("data-rule-id", "rule_2"));
    const empty = screen.getByTestId("rule-chart");
    expect(empty).toHaveAttribute("aria-label", "Annotations over time: 0 now; no runs yet");
    expect(within(empty).getAllByTestId("chart-threshold").map((t) => t.getAttribute("data-count"))).toEqual(["10"]);
    expect(within(empty).queryAllByTestId("chart-run")).toHaveLength(0);
    expect(within(empty).queryByTestId("chart-line")).not.toBeInTheDocument();
    expect(screen.getAllByTestId("rule-card")[1]).toHaveAttribute("data-selected", "true");
  });

  it("copes with a single point", async () => {
    await openRuns({
      rules: [rule({ count: 5, progress: "5 of 16 useful annotations toward the next retrain (at 16)" })],
      points: { rule_1: [point(0, 5)] },
    });
    const chart = await screen.findByTestId("rule-chart");
    expect(chart).toHaveAttribute("aria-label", "Useful annotations over time: 5 now; no runs yet");
    expect(within(chart).getAllByTestId("chart-threshold")).toHaveLength(1);
    expect(within(chart).getByTestId("chart-line").getAttribute("d")).not.toMatch(/NaN/);
  });
});

describe("Runs: the Label Studio webhook", () => {
  it("registers the webhook with the receiver's address by default", async () => {
    const user = await openRuns();
    const form = await screen.findByTestId("hook-form");
    await waitFor(() => expect(within(form).getByLabelText("Public URL")).toHaveValue("http://127.0.0.1:8787"));
    expect(within(form).getByTestId("hook-register")).toBeDisabled();
    await user.type(within(form).getByLabelText("Project number"), "7");
    await user.click(within(form).getByTestId("hook-register"));
    expect(calls("label_studio_hook")).toEqual([
      { cmd: "label_studio_hook", args: { sourceId: "src_ls", projectId: 7, publicUrl: "http://127.0.0.1:8787" } },
    ]);
    expect(await screen.findByTestId("hook-result")).toHaveTextContent("Webhook 1 created: http://127.0.0.1:8787/hooks/src_ls");
  });

  it("sends a typed tunnel URL and shows a refusal", async () => {
    const user = await openRuns({
      answers: {
        label_studio_hook: () => {
          throw { code: "not_connected", message: "Connect Label Studio first, in Settings." };
        },
      },
    });
    const form = await screen.findByTestId("hook-form");
    await user.type(within(form).getByLabelText("Project number"), "12");
    await user.clear(within(form).getByLabelText("Public URL"));
    await user.type(within(form).getByLabelText("Public URL"), "https://abc.tunnel.example");
    await user.click(within(form).getByTestId("hook-register"));
    expect(calls("label_studio_hook")[0]?.args).toEqual({ sourceId: "src_ls", projectId: 12, publicUrl: "https://abc.tunnel.example" });
    const alert = await screen.findByTestId("hook-error");
    expect(alert).toHaveAttribute("role", "alert");
    expect(alert).toHaveTextContent("Connect Label Studio first, in Settings.");
    expect(screen.queryByTestId("hook-result")).not.toBeInTheDocument();
  });
});
