import { describe, expect, it, vi } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { LabelingRequest, SetupStep } from "./bindings.gen";
import { firstRunStates } from "./lib/firstRun";
import { timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

const LAYOUT = { bucket: "sagemaker-birds", region: "eu-west-1", images: "bird-images", annotations: "annotations", scripts: "script", model: "model" };
const at = "2026-12-05T10:00:00.000Z";
const step = (key: string, status: SetupStep["status"], summary = "", resource = ""): SetupStep => ({
  key,
  title: key,
  resource,
  status,
  summary,
  detail: null,
  error: null,
  at: status === "planned" ? null : at,
});

describe("First run", () => {
  it("opens on Setup, not on an empty timeline, when nothing is set up", async () => {
    engine.current = timelineEngine([], { sources_list: [], setup_started: Date.parse(at) });
    const app = await renderApp("/");
    expect(await screen.findByTestId("setup-progress")).toHaveTextContent("0 of 8 done · next: 1. Label Studio");
    expect(app.path()).toBe("/setup");
    expect(screen.getByTestId("setup-step-1")).toHaveAttribute("aria-current", "step");
    // Skipping moves "next" on, and the skip is remembered.
    await userEvent.click(screen.getByTestId("setup-skip-1"));
    expect(screen.getByTestId("setup-progress")).toHaveTextContent("next: 2. AWS");
    expect(screen.getByTestId("setup-step-1")).toHaveAttribute("data-state", "skipped");
    await userEvent.click(screen.getByTestId("setup-skip-1"));
    expect(screen.getByTestId("setup-progress")).toHaveTextContent("next: 1. Label Studio");
  });

  it("plans the labeling project, then creates it with the pipeline's labels", async () => {
    const sent: LabelingRequest[] = [];
    engine.current = timelineEngine([], {
      storage_layout: LAYOUT,
      setup_started: Date.parse(at),
      labeling_choice: null,
      setup_labeling_plan: (args?: Record<string, unknown>) => {
        sent.push(args!.request as LabelingRequest);
        return {
          section: "labeling",
          planned: true,
          steps: [
            { ...step("ls.project", "planned", "Create the project 'Birds' with this labeling config."), detail: "<View><PolygonLabels/></View>" },
            step("ls.source", "planned", "Add s3://sagemaker-birds/bird-images/ as the project's source storage, then sync."),
          ],
        };
      },
      setup_labeling: () => ({
        section: "labeling",
        planned: false,
        steps: [step("ls.project", "created", "Created.", "Label Studio project 3 ('Birds')"), step("ls.source", "created", "Synced 1,800 new images → 1,800 new tasks.")],
      }),
    });
    const user = userEvent.setup();
    await renderApp("/setup");
    await user.click(await screen.findByTestId("labeling-plan"));
    expect(await screen.findByTestId("labeling-plan-steps")).toHaveTextContent("s3://sagemaker-birds/bird-images/");
    expect(screen.getByTestId("labeling-detail-ls.project")).toHaveTextContent("PolygonLabels");
    expect(sent[0]).toMatchObject({ project_title: "Birds", project: null, labels: [], storage_credentials: "scoped-user", source: null });
    await user.click(screen.getByTestId("labeling-create"));
    expect(await screen.findByTestId("labeling-result-steps")).toHaveTextContent("Synced 1,800 new images → 1,800 new tasks.");
  });

  it("checks the loop with the project's source, and shows the time since the first screen", async () => {
    const started = Date.parse(at);
    const checked: unknown[] = [];
    engine.current = timelineEngine([], {
      setup_started: started,
      labeling_choice: { project: 3, title: "Birds", source_storage: 1, target_storage: 2, source: null },
      setup_check: (args?: Record<string, unknown>) => {
        checked.push(args);
        return {
          section: "check",
          planned: false,
          steps: [
            step("check.counted", "unchanged", "1 of 16 useful annotations toward the next retrain (at 16) (the test annotation starts no run)."),
            { ...step("check.loop", "unchanged", "Loop verified in 1.2 s."), at: new Date(started + 7 * 60_000 + 40_000).toISOString() },
          ],
        };
      },
    });
    await renderApp("/setup");
    await userEvent.click(await screen.findByTestId("loop-check-run"));
    expect(await screen.findByTestId("loop-check-steps")).toHaveTextContent("1 of 16 useful annotations");
    expect(screen.getByTestId("loop-verified")).toHaveTextContent("From the first screen to here: 7 min 40 s.");
    await waitFor(() => expect(checked[0]).toMatchObject({ project: 3 }));
  });

  it("offers Cancel while the loop check waits, and shows what was done", async () => {
    const cancelled: unknown[] = [];
    let finish: (() => void) | null = null;
    engine.current = timelineEngine([], {
      setup_started: Date.parse(at),
      labeling_choice: { project: 3, title: "Birds", source_storage: 1, target_storage: 2, source: null },
      // The engine's check waits for the webhook until Cancel ends the wait.
      setup_check: () =>
        new Promise((resolve) => {
          finish = () =>
            resolve({
              section: "check",
              planned: false,
              steps: [
                step("check.annotation", "created", "Made in Label Studio, as an annotator would."),
                {
                  ...step("check.received", "failed", "Cancelled while waiting for the test annotation's webhook."),
                  error: { code: "cancelled", message: "Cancelled while waiting for the test annotation's webhook." },
                },
                step("check.cleaned", "unchanged", "The test annotation and its exported object are deleted."),
                step("check.loop", "failed", "The loop check was cancelled: the steps above say what was done."),
              ],
            });
        }),
      setup_cancel: (args?: Record<string, unknown>) => {
        cancelled.push(args);
        finish?.();
        return true;
      },
    });
    const user = userEvent.setup();
    await renderApp("/setup");
    expect(screen.queryByTestId("loop-check-cancel")).toBeNull();
    await user.click(await screen.findByTestId("loop-check-run"));
    await user.click(await screen.findByTestId("loop-check-cancel"));
    expect(cancelled).toEqual([{ work: "check" }]);
    const steps = await screen.findByTestId("loop-check-steps");
    expect(steps).toHaveTextContent("Cancelled while waiting for the test annotation's webhook.");
    expect(steps).toHaveTextContent("The test annotation and its exported object are deleted.");
    expect(screen.queryByTestId("loop-check-cancel")).toBeNull();
    expect(screen.queryByTestId("loop-verified")).toBeNull();
  });

  it("derives each step's state from what the engine reports", () => {
    const states = firstRunStates({
      lsUrl: "http://localhost:8080",
      aws: { mode: "default_chain", region: null, profile: null } as never,
      setup: [
        step("s3.bucket", "created"),
        step("s3.public_access", "unchanged"),
        step("s3.layout", "created"),
        step("s3.images", "uploaded"),
        step("iam.role", "created"),
        step("sm.quota", "failed"),
        step("sm.pipeline", "created"),
        step("ls.project", "created"),
        step("ls.source", "failed"),
      ],
      tunnel: undefined,
      rules: [],
      project: 3,
    });
    expect(states).toEqual(["done", "done", "done", "done", "failed", "todo", "todo", "todo"]);
  });
});
