import { describe, expect, it, vi, beforeEach } from "vitest";
import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { eventQueries, summary, timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));


const rows = () => screen.getAllByTestId("timeline-row");
const rowIds = () => rows().map((r) => Number(r.getAttribute("data-event-id")));

let writeText: ReturnType<typeof vi.fn>;
function mockClipboard() {
  writeText = vi.fn(async () => {});
  Object.defineProperty(navigator, "clipboard", { configurable: true, value: { writeText } });
}

const three = () => [
  summary(1),
  summary(2, { status: "duplicate", duplicate_of: 1 }),
  summary(3, { status: "malformed", action: null, project_id: null, project_name: null, summary: "Body is not JSON" }),
];

describe("Timeline", () => {
  beforeEach(() => {
    engine.current = timelineEngine(three());
  });

  it("renders rows from events_list, newest first, with status and counts", async () => {
    await renderApp();
    await screen.findAllByTestId("timeline-row");
    expect(rowIds()).toEqual([3, 2, 1]);
    const [malformed, duplicate, processed] = rows();
    expect(malformed).toHaveAttribute("data-status", "malformed");
    expect(malformed).toHaveTextContent("Body is not JSON");
    expect(duplicate).toHaveAttribute("data-status", "duplicate");
    expect(processed).toHaveTextContent("ANNOTATION_CREATED");
    expect(processed).toHaveTextContent("Bird parts");
    expect(processed).toHaveAttribute("aria-selected", "false");
    expect(await screen.findByTestId("timeline-count")).toHaveTextContent("3 events · 2.0 MB");
    expect(eventQueries(engine.current!.calls)[0]).toEqual({
      source_id: null, action: null, status: null, project_id: null, search: null, before_id: null, after_id: null, limit: 100,
    });
  });

  it("loads older pages with before_id as the list scrolls", async () => {
    engine.current = timelineEngine(Array.from({ length: 250 }, (_, i) => summary(i + 1)));
    await renderApp();
    await screen.findAllByTestId("timeline-row");
    // Only the rows in view exist, however many are loaded.
    expect(rows().length).toBeLessThan(60);
    const list = screen.getByTestId("timeline-list");
    list.scrollTop = 100 * 30;
    fireEvent.scroll(list);
    await waitFor(() => expect(eventQueries(engine.current!.calls).some((q) => q.before_id === 151)).toBe(true));
  });

  it("passes the filters as an EventQuery and offers to clear them", async () => {
    const user = userEvent.setup();
    await renderApp();
    await screen.findAllByTestId("timeline-row");
    await user.selectOptions(screen.getByTestId("timeline-filter-source"), "src_ls");
    await user.selectOptions(screen.getByTestId("timeline-filter-status"), "malformed");
    await user.type(screen.getByTestId("timeline-filter-action"), "ANNOTATION_CREATED");
    await user.type(screen.getByTestId("timeline-filter-project"), "7");
    await user.type(screen.getByTestId("timeline-search"), "wing");
    await waitFor(() =>
      expect(eventQueries(engine.current!.calls).at(-1)).toEqual({
        source_id: "src_ls", action: "ANNOTATION_CREATED", status: "malformed", project_id: 7, search: "wing",
        before_id: null, after_id: null, limit: 100,
      }),
    );
    // The search waits for a pause in typing instead of querying on every key.
    expect(eventQueries(engine.current!.calls).filter((q) => q.search !== null)).toHaveLength(1);
    const empty = await screen.findByTestId("timeline-empty");
    expect(empty).toHaveTextContent("No events match these filters");
    await user.click(within(empty).getByRole("button", { name: "Clear filters" }));
    await waitFor(() => expect(rowIds()).toEqual([3, 2, 1]));
    expect(screen.getByTestId("timeline-search")).toHaveValue("");
  });

  it("prepends new events from a timeline-changed push", async () => {
    await renderApp();
    await screen.findAllByTestId("timeline-row");
    engine.current!.store.events.unshift(summary(5), summary(4));
    act(() => engine.current!.emit("timeline-changed", { newest_id: 5, revision: 0 }));
    await waitFor(() => expect(rowIds()).toEqual([5, 4, 3, 2, 1]));
    expect(eventQueries(engine.current!.calls).at(-1)).toMatchObject({ after_id: 3, before_id: null });
    await waitFor(() => expect(screen.getByTestId("timeline-count")).toHaveTextContent("5 events"));
  });

  it("refetches the loaded pages when the revision changes", async () => {
    await renderApp();
    await screen.findAllByTestId("timeline-row");
    act(() => engine.current!.emit("timeline-changed", { newest_id: 3, revision: 1 }));
    await waitFor(() => expect(engine.current!.calls.filter((c) => c.cmd === "events_list")).toHaveLength(2));
    engine.current!.store.events = engine.current!.store.events.filter((e) => e.id !== 2);
    act(() => engine.current!.emit("timeline-changed", { newest_id: 3, revision: 2 }));
    await waitFor(() => expect(rowIds()).toEqual([3, 1]));
  });

  it("moves with j/k, opens with Enter, closes with Escape, and ignores keys while typing", async () => {
    const user = userEvent.setup();
    await renderApp();
    await screen.findAllByTestId("timeline-row");
    await user.keyboard("j");
    expect(rows()[0]).toHaveAttribute("aria-selected", "true");
    await user.keyboard("jj");
    expect(rows()[2]).toHaveAttribute("aria-selected", "true");
    await user.keyboard("k");
    expect(rows()[1]).toHaveAttribute("aria-selected", "true");
    expect(screen.queryByTestId("event-detail")).not.toBeInTheDocument();
    await user.keyboard("{Enter}");
    const detail = await screen.findByTestId("event-detail");
    expect(detail).toHaveAttribute("data-event-id", "2");
    expect(await screen.findByTestId("event-summary-text")).toHaveTextContent("Annotation 2 created");
    await user.keyboard("k");
    await waitFor(() => expect(screen.getByTestId("event-detail")).toHaveAttribute("data-event-id", "3"));
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("event-detail")).not.toBeInTheDocument();

    await user.keyboard("/");
    expect(screen.getByTestId("timeline-search")).toHaveFocus();
    await user.keyboard("jk");
    expect(screen.getByTestId("timeline-search")).toHaveValue("jk");
    expect(rows()[0]).toHaveAttribute("aria-selected", "true");
  });

  it("links a duplicate to its original", async () => {
    const user = userEvent.setup();
    await renderApp();
    await screen.findAllByTestId("timeline-row");
    await user.click(rows()[1]!);
    await user.click(within(await screen.findByTestId("event-duplicate-of")).getByRole("button", { name: "#1" }));
    await waitFor(() => expect(screen.getByTestId("event-detail")).toHaveAttribute("data-event-id", "1"));
    expect(rows()[2]).toHaveAttribute("aria-selected", "true");
  });
});

describe("Event detail", () => {
  beforeEach(() => {
    engine.current = timelineEngine(three(), {
      event_replay: (args?: Record<string, unknown>) => ({ event_id: args?.id, message: "Replayed event #1: processed again." }),
      event_replay_edited: () => ({ event_id: 9, message: "Sent the edited body as event #9." }),
      event_delete: (args?: Record<string, unknown>) => {
        engine.current!.store.events = engine.current!.store.events.filter((e) => e.id !== args?.id);
        return null;
      },
    });
    mockClipboard();
  });

  async function openEvent(id: number) {
    const user = userEvent.setup();
    await renderApp();
    await screen.findAllByTestId("timeline-row");
    mockClipboard();
    await user.click(rows().find((r) => r.getAttribute("data-event-id") === String(id))!);
    await screen.findByTestId("event-summary-text");
    return user;
  }

  it("shows the summary, masked fields and the raw body and headers", async () => {
    const user = await openEvent(1);
    expect(screen.getByTestId("event-redacted-note")).toHaveTextContent("Secret fields are masked: project.token");
    expect(screen.getByTestId("event-detail")).toHaveTextContent("127.0.0.1:50123");
    await user.click(screen.getByTestId("detail-tab-raw"));
    expect(screen.getByTestId("event-raw").tagName).toBe("PRE");
    expect(screen.getByTestId("event-raw")).toHaveTextContent('"token":"••••••"');
    await user.click(screen.getByTestId("detail-tab-headers"));
    expect(within(screen.getByTestId("event-headers")).getByText("content-type")).toBeInTheDocument();
  });

  it("expands the JSON tree lazily, masks secrets and copies paths", async () => {
    const user = await openEvent(1);
    await user.click(screen.getByTestId("detail-tab-json"));
    const tree = screen.getByTestId("json-tree");
    const node = (path: string) => tree.querySelector(`[data-testid="json-node"][data-path="${path}"]`) as HTMLElement | null;
    expect(node("project.token")).not.toBeNull();
    expect(within(node("project.token")!).getByText("••••••")).toHaveAttribute("data-redacted", "true");
    // Deeper containers start closed and their children are not rendered at all.
    expect(node("annotation.result")).not.toBeNull();
    expect(node("annotation.result[0]")).toBeNull();
    await user.click(within(node("annotation.result")!).getByRole("button", { name: "Expand annotation.result" }));
    expect(node("annotation.result[0]")).not.toBeNull();
    expect(node("annotation.result[0].value.labels")).toBeNull();
    await user.click(within(node("project.token")!).getByTestId("json-copy-path"));
    expect(writeText).toHaveBeenLastCalledWith("project.token");
    await user.click(within(node("annotation.result[0]")!).getAllByTestId("json-copy-path")[0]!);
    expect(writeText).toHaveBeenLastCalledWith("annotation.result[0]");
    await user.click(within(node("project.title")!).getByTestId("json-copy-value"));
    expect(writeText).toHaveBeenLastCalledWith("Bird parts");
  });

  it("copies the curl command", async () => {
    const user = await openEvent(1);
    await user.click(screen.getByTestId("event-copy-curl"));
    expect(writeText).toHaveBeenCalledWith(expect.stringContaining("curl -X POST"));
    expect(await screen.findByTestId("toast")).toHaveTextContent("Copied the curl command");
  });

  it("replays and shows the outcome as a toast", async () => {
    const user = await openEvent(1);
    await user.click(screen.getByTestId("event-replay"));
    expect(engine.current!.calls).toContainEqual({ cmd: "event_replay", args: { id: 1 } });
    expect(await screen.findByTestId("toast")).toHaveTextContent("Replayed event #1: processed again.");
  });

  it("shows a replay failure as a sentence", async () => {
    engine.current = timelineEngine(three(), {
      event_replay: () => {
        throw { code: "source_not_found", message: "The source of this event was removed, so it cannot be replayed." };
      },
    });
    const user = await openEvent(1);
    await user.click(screen.getByTestId("event-replay"));
    expect(await screen.findByRole("alert")).toHaveTextContent("The source of this event was removed");
  });

  it("edits and replays, refusing invalid JSON, then selects the new event", async () => {
    const user = await openEvent(1);
    await user.click(screen.getByTestId("event-edit-replay"));
    const body = screen.getByTestId("event-edit-body");
    expect((body as HTMLTextAreaElement).value).toContain('"title": "Bird parts"');
    await user.clear(body);
    fireEvent.change(body, { target: { value: "{not json" } });
    await user.click(screen.getByTestId("event-edit-submit"));
    expect(await screen.findByRole("alert")).toHaveTextContent("not valid JSON");
    expect(engine.current!.calls.some((c) => c.cmd === "event_replay_edited")).toBe(false);

    engine.current!.store.events.unshift(summary(9, { replay_of: 1 }));
    fireEvent.change(body, { target: { value: '{"action":"ANNOTATION_UPDATED"}' } });
    await user.click(screen.getByTestId("event-edit-submit"));
    expect(engine.current!.calls).toContainEqual({
      cmd: "event_replay_edited",
      args: { id: 1, body: '{"action":"ANNOTATION_UPDATED"}' },
    });
    await waitFor(() => expect(screen.getByTestId("event-detail")).toHaveAttribute("data-event-id", "9"));
    expect(await screen.findByTestId("event-replay-of")).toHaveTextContent("#1");
  });

  it("deletes after a confirm step and moves to the next row", async () => {
    const user = await openEvent(2);
    await user.click(screen.getByTestId("event-delete"));
    expect(engine.current!.calls.some((c) => c.cmd === "event_delete")).toBe(false);
    await user.click(screen.getByTestId("event-delete-confirm"));
    expect(engine.current!.calls).toContainEqual({ cmd: "event_delete", args: { id: 2 } });
    await waitFor(() => expect(rowIds()).toEqual([3, 1]));
    expect(screen.getByTestId("event-detail")).toHaveAttribute("data-event-id", "1");
    expect(rows()[1]).toHaveAttribute("aria-selected", "true");
  });
});

describe("Timeline empty state", () => {
  it("says what to do next and goes to Sources", async () => {
    engine.current = timelineEngine([]);
    const user = userEvent.setup();
    await renderApp();
    const empty = await screen.findByTestId("timeline-empty");
    expect(empty).toHaveTextContent("No events yet");
    await user.click(within(empty).getByRole("button", { name: /Add a source, then send a test event/ }));
    expect(screen.getByRole("link", { name: "Sources" })).toHaveAttribute("aria-current", "page");
  });
});
