import { describe, expect, it, vi } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { AquariumIssue, AquariumIssueSummary, ExportReport, IssueElement } from "./bindings.gen";
import { summary, timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

const element = (id: string, cls: string, confidence: number | null): IssueElement => ({
  element_id: id,
  element_type: "frame",
  frame_id: id,
  dataset: "birds",
  inference_set: "resnet50-v3",
  image_url: `https://images.example.org/${id}.jpg`,
  preview_url: null,
  width: 1920,
  height: 1080,
  sensor_id: "cam0",
  labels: [
    { uuid: `${id}-l`, label_type: "BBOX_2D", class: cls, confidence, inference: confidence !== null, geometry: { kind: "box", left: 192, top: 108, width: 384, height: 216 }, coordinate_frame: "cam0" },
  ],
  crop_label: null,
  user_metadata: { site: "Horicon" },
});

const issue: AquariumIssue = {
  event: "issue-exported",
  issue_id: "issue-1",
  name: "wing-confusion",
  project: "bird-parts",
  elements: [element("f1", "Wing", 0.9), element("f2", "Beak", 0.3), element("f3", "Wing", null)],
  skipped: [],
};

const listed: AquariumIssueSummary = {
  issue_id: "issue-1",
  project: "bird-parts",
  name: "wing-confusion",
  elements: 3,
  skipped: 0,
  received_at: "2026-12-05T10:00:00.000Z",
  event_id: 1,
  exports: [],
};

const report: ExportReport = {
  export_id: 4,
  issue_id: "issue-1",
  target: "REST https://labeling.example.com/tasks",
  state: "done",
  created_at: "2026-12-05T10:01:00.000Z",
  created: [{ element_id: "f1", task_id: null, note: null }],
  skipped: [],
  failed: [],
  pending: 0,
  last_error: null,
};

/** An earlier export to Label Studio, with something to say about each element. */
const noted: ExportReport = {
  ...report,
  export_id: 3,
  target: "Label Studio project 7",
  created: [
    { element_id: "f1", task_id: 12, note: "masks not sent: m-1 (SEMANTIC_LABEL_URL_2D: a Label Studio prediction cannot point at a mask image)" },
    { element_id: "f2", task_id: 13, note: null },
  ],
  skipped: [{ element_id: "f-null", reason: "not usable: no frame data (frame_data is missing or null)", task_id: null }],
};

async function openIssue(exports: ExportReport[] = []) {
  engine.current = timelineEngine([summary(1)], {
    aquarium_issues: [listed],
    aquarium_issue: issue,
    aquarium_exports: exports,
    image_hosts: [],
    labeling_choice: null,
    aquarium_export: report,
  });
  const user = userEvent.setup();
  await renderApp("/issues/issue-1");
  await waitFor(() => expect(screen.getAllByTestId("element-card")).toHaveLength(3));
  return user;
}

describe("Issues", () => {
  it("draws each element's labels and loads no image before the host is allowed", async () => {
    await openIssue();
    expect(screen.getAllByTestId("label-box")).toHaveLength(3);
    expect(screen.getByText("Wing 90 %")).toBeInTheDocument();
    expect(screen.getByTestId("allow-host")).toHaveTextContent("images.example.org");
    expect(engine.current!.calls.some((c) => c.cmd === "aquarium_thumbnail")).toBe(false);
  });

  it("filters by class, and sends only what stays selected to a REST endpoint", async () => {
    const user = await openIssue();
    await user.selectOptions(screen.getByLabelText("Class"), "Wing");
    await waitFor(() => expect(screen.getAllByTestId("element-card")).toHaveLength(2));
    await user.click(screen.getByTestId("deselect-shown"));
    expect(screen.getByTestId("selection-count")).toHaveTextContent("1 of 3 selected");

    await user.selectOptions(screen.getByTestId("export-kind"), "rest");
    expect(screen.getByTestId("export-send")).toBeDisabled();
    await user.type(screen.getByTestId("export-url"), "https://labeling.example.com/tasks");
    await user.click(screen.getByTestId("export-send"));
    expect(engine.current!.calls).toContainEqual({
      cmd: "aquarium_export",
      args: {
        request: {
          issue_id: "issue-1",
          target: { kind: "rest", url: "https://labeling.example.com/tasks", body_template: null, auth_secret: null },
          elements: ["f2"],
          labels: "both",
        },
      },
    });
  });

  it("lets the labels sent be chosen, ground truth and inferences by default", async () => {
    const user = await openIssue();
    expect(screen.getByTestId("export-labels")).toHaveValue("both");
    await user.selectOptions(screen.getByTestId("export-labels"), "ground_truth");
    await user.selectOptions(screen.getByTestId("export-kind"), "rest");
    await user.type(screen.getByTestId("export-url"), "https://labeling.example.com/tasks");
    await user.click(screen.getByTestId("export-preview"));
    const previews = engine.current!.calls.filter((c) => c.cmd === "aquarium_export_preview");
    expect(previews).toHaveLength(1);
    expect((previews[0]?.args as { request: { labels: string } }).request.labels).toBe("ground_truth");
  });

  it("shows what each element became: the created task's note, the skipped one's reason", async () => {
    await openIssue([noted]);
    const notes = await screen.findByTestId("export-notes");
    const lines = Array.from(notes.querySelectorAll("li")).map((li) => li.textContent);
    expect(lines).toEqual([
      "f1 created: task 12, masks not sent: m-1 (SEMANTIC_LABEL_URL_2D: a Label Studio prediction cannot point at a mask image)",
      "f-null skipped: not usable: no frame data (frame_data is missing or null)",
    ]);
    const cards = screen.getAllByTestId("element-result").map((p) => p.textContent);
    expect(cards).toContain("created: task 12, masks not sent: m-1 (SEMANTIC_LABEL_URL_2D: a Label Studio prediction cannot point at a mask image)");
    expect(cards).toContain("created: task 13");
  });
});
