import { describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { AutomationRequest, DatasetDiff, DatasetManifest, DatasetVersion } from "./bindings.gen";
import { automation } from "./test/automationFixtures";
import { source, summary, timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

const DATASETS = automation({
  id: "auto_ds",
  name: "Freeze birds",
  action: { kind: "dataset_version", bucket: "birds", prefix: "annotations", region: "eu-west-1", keep: 2 },
  fired: 3,
});

const version = (n: number, kept = true): DatasetVersion => ({
  automation_id: "auto_ds",
  automation_name: "Freeze birds",
  version: `v${n}`,
  uri: `s3://birds/datasets/auto_ds/v${n}/manifest.json`,
  event_id: 10 + n,
  created_at: "2025-03-04T12:00:00.000Z",
  kept,
});

const manifest = (n: number, labels: Record<string, number>): DatasetManifest => ({
  format: "loopline.dataset/1",
  automation_id: "auto_ds",
  version: `v${n}`,
  uri: version(n).uri,
  created_at: "2025-03-04T12:00:00.000Z",
  trigger: { event_id: 10 + n, source_id: "src_ls", action: "ANNOTATION_CREATED", project_id: 7, received_at: "2025-03-04T12:00:00.000Z" },
  project: { id: 7, label_config_sha256: "ab".repeat(32) },
  bucket: "birds",
  prefix: "annotations/",
  objects: Array.from({ length: n }, (_, i) => ({ key: `annotations/${i + 1}`, etag: "e".repeat(32), size: 10 })),
  labels,
  unreadable: [],
  cancelled: 0,
});

const DIFF: DatasetDiff = {
  from: "v2",
  to: "v3",
  added: ["annotations/3"],
  changed: ["annotations/1"],
  removed: [],
  labels: [
    { label: "Beak", from: 1, to: 2 },
    { label: "Head", from: 0, to: 1 },
  ],
};

async function open(path: string, answers: Record<string, unknown> = {}) {
  engine.current = timelineEngine([summary(1)], {
    dataset_list: () => [version(1, false), version(2), version(3)],
    dataset_show: (args: { version: string }) => (args.version.endsWith("v3") ? manifest(3, { Beak: 2, Head: 1 }) : manifest(2, { Beak: 1 })),
    dataset_diff: () => DIFF,
    ...answers,
  });
  Object.assign(engine.current.store, { automations: [DATASETS], deliveries: [], sources: [source()] });
  const user = userEvent.setup();
  await renderApp(path);
  return user;
}

const calls = (cmd: string) => engine.current!.calls.filter((c) => c.cmd === cmd);

describe("Dataset versions on the Automations page", () => {
  it("lists the versions newest first, opens a manifest and compares it with the one before", async () => {
    const user = await open("/automations/auto_ds");
    const detail = await screen.findByTestId("automation-detail");
    expect(detail).toHaveTextContent("dataset version of s3://birds/annotations (keeps 2)");
    const rows = await within(detail).findAllByTestId("dataset-version");
    expect(rows.map((r) => r.getAttribute("data-version"))).toEqual(["v3", "v2", "v1"]);
    expect(rows[2]!).toHaveTextContent("deleted: older than the versions kept");
    expect(within(rows[2]!).getByRole("button", { name: "v1" })).toBeDisabled();

    await user.click(within(rows[0]!).getByRole("button", { name: "v3" }));
    const m = await within(rows[0]!).findByTestId("dataset-manifest");
    expect(m).toHaveTextContent("3 annotation objects under s3://birds/annotations/");
    expect(m).toHaveTextContent("project 7");
    expect(within(m).getByTestId("dataset-labels")).toHaveTextContent("Beak2");
    expect(calls("dataset_show").map((c) => c.args)).toEqual([{ version: "auto_ds/v3" }]);

    await user.click(within(rows[0]!).getByTestId("dataset-compare"));
    const d = await within(rows[0]!).findByTestId("dataset-diff");
    expect(within(d).getByTestId("dataset-diff-sentence")).toHaveTextContent("v2 → v3: 1 added, 1 changed, 0 removed");
    expect(within(d).getByTestId("dataset-added")).toHaveTextContent("+ annotations/3");
    expect(within(d).getByTestId("dataset-changed")).toHaveTextContent("~ annotations/1");
    expect(within(d).getByTestId("dataset-diff-labels")).toHaveTextContent("Head01");
    expect(calls("dataset_diff").map((c) => c.args)).toEqual([{ from: "auto_ds/v2", to: "auto_ds/v3" }]);
  });

  it("shows a manifest that cannot be read with its code and message", async () => {
    const user = await open("/automations/auto_ds", {
      dataset_show: () => {
        throw { code: "not_found", message: "s3://birds/datasets/auto_ds/v3/manifest.json cannot be read: it is not in the bucket." };
      },
    });
    const rows = await screen.findAllByTestId("dataset-version");
    await user.click(within(rows[0]!).getByRole("button", { name: "v3" }));
    expect(await within(rows[0]!).findByRole("alert")).toHaveTextContent("not_found: s3://birds/datasets/auto_ds/v3/manifest.json cannot be read");
  });

  it("builds a dataset-version automation from the form", async () => {
    const user = await open("/automations");
    const form = await screen.findByTestId("automation-form");
    await user.type(within(form).getByTestId("auto-name"), "Freeze");
    await user.selectOptions(within(form).getByTestId("auto-kind"), "dataset_version");
    await user.type(within(form).getByTestId("auto-bucket"), "birds");
    await user.clear(within(form).getByTestId("auto-keep"));
    await user.type(within(form).getByTestId("auto-keep"), "5");
    await user.click(within(form).getByTestId("automation-save"));
    await waitFor(() => expect(calls("automation_add")).toHaveLength(1));
    expect((calls("automation_add")[0]!.args!.request as AutomationRequest).action).toEqual({
      kind: "dataset_version",
      bucket: "birds",
      prefix: null,
      region: null,
      keep: 5,
    });
  });
});
