import { describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ModelVersion } from "./bindings.gen";
import { modelVersion, run, summary, timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

/** Opens run 2's detail, with the engine answering for its model version as `answers` say. */
async function openRun(answers: Record<string, unknown>) {
  engine.current = timelineEngine([summary(1)], answers);
  Object.assign(engine.current.store, { runs: [run(2), run(1)] });
  const user = userEvent.setup();
  await renderApp();
  await user.click(screen.getByRole("link", { name: "Automations" }));
  await user.click(await screen.findByRole("button", { name: "Open run 2" }));
  return { user, detail: await screen.findByTestId("run-detail") };
}

const calls = (cmd: string) => engine.current!.calls.filter((c) => c.cmd === cmd);

describe("Run detail: the model version", () => {
  it("shows the version, its status and its metrics against the approved one", async () => {
    const { detail } = await openRun({ run_model: modelVersion() });
    const model = await within(detail).findByTestId("run-model");
    expect(model).toHaveTextContent("retrain-birds v2");
    expect(within(model).getByTestId("run-model-status")).toHaveTextContent("Waiting for approval");
    const rows = within(model).getAllByTestId("run-model-metric");
    expect(rows[0]).toHaveTextContent("mIOU0.62500.5000+0.1250");
    expect(rows[1]).toHaveTextContent("pixel_accuracy0.87500.9000−0.0250");
    expect(within(model).getByRole("columnheader", { name: "Approved (v1)" })).toBeInTheDocument();
    expect(calls("run_model")).toContainEqual({ cmd: "run_model", args: { runId: 2 } });
  });

  it("approves after a confirmation, with the note, and shows the new status", async () => {
    let current: ModelVersion = modelVersion();
    const { user, detail } = await openRun({
      run_model: () => current,
      model_decide: (args?: Record<string, unknown>) => {
        current = modelVersion({ status: "Approved", approved_now: true, compared_with: null, note: String(args?.note) });
        return current;
      },
    });
    const model = await within(detail).findByTestId("run-model");
    await user.click(within(model).getByTestId("run-model-approve"));
    expect(within(model).getByTestId("run-model-confirm")).toHaveTextContent("Approve version 2 of retrain-birds?");
    expect(calls("model_decide")).toEqual([]);
    await user.type(within(model).getByTestId("run-model-note"), "better mIOU");
    await user.click(within(model).getByTestId("run-model-confirm-button"));
    expect(calls("model_decide")).toEqual([
      {
        cmd: "model_decide",
        args: { version: "arn:aws:sagemaker:eu-west-1:123456789012:model-package/retrain-birds/2", decision: "approve", note: "better mIOU" },
      },
    ]);
    await waitFor(() => expect(within(detail).getByTestId("run-model-status")).toHaveTextContent("Approved"));
    expect(within(detail).getByTestId("run-model")).toHaveTextContent("the version approved now");
    expect(within(detail).getByTestId("run-model-note-shown")).toHaveTextContent("Note: better mIOU");
    expect(within(detail).getByTestId("run-model-approve")).toBeDisabled();
  });

  it("rejects only once confirmed, a cancel sends nothing, and a refusal is said", async () => {
    const { user, detail } = await openRun({
      run_model: modelVersion(),
      model_decide: new Error("AWS is throttling requests from this account right now. Try again in a minute."),
    });
    const model = await within(detail).findByTestId("run-model");
    await user.click(within(model).getByTestId("run-model-reject"));
    await user.click(within(model).getByRole("button", { name: "Cancel" }));
    expect(within(model).queryByTestId("run-model-confirm")).not.toBeInTheDocument();
    expect(calls("model_decide")).toEqual([]);

    await user.click(within(model).getByTestId("run-model-reject"));
    expect(within(model).getByTestId("run-model-confirm")).toHaveTextContent("Reject version 2 of retrain-birds?");
    await user.click(within(model).getByTestId("run-model-confirm-button"));
    expect(await within(model).findByRole("alert")).toHaveTextContent("Try again in a minute.");
    expect(calls("model_decide").map((c) => c.args?.decision)).toEqual(["reject"]);
    expect(within(model).getByTestId("run-model-status")).toHaveTextContent("Waiting for approval");
  });

  it("says why there is no version yet", async () => {
    const { detail } = await openRun({ run_model: null });
    expect(await within(detail).findByTestId("run-model-none")).toHaveTextContent("when its RegisterModel step ends");
  });

  it("says what to do when the pipeline has no model package group", async () => {
    const missing = await openRun({
      run_model: new Error("The pipeline 'retrain-birds' has no model package group 'retrain-birds' in eu-west-1 yet. Run the training setup again."),
    });
    expect(await within(missing.detail).findByTestId("run-model-error")).toHaveTextContent("Run the training setup again");
  });
});
