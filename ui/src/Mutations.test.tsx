import { describe, expect, it, vi } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { TimelineStats } from "./bindings.gen";
import { queryKeys } from "./api/queryKeys";
import { rule, summary, timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

const calls = (cmd: string) => engine.current!.calls.filter((c) => c.cmd === cmd);

describe("Mutations", () => {
  it("disables the button while its mutation is pending, and enables it when it settles", async () => {
    let finish: (stats: TimelineStats) => void = () => {};
    engine.current = timelineEngine([summary(1)], {
      retention_set: () => new Promise<TimelineStats>((resolve) => (finish = resolve)),
    });
    const user = userEvent.setup();
    await renderApp("/settings");
    const apply = await screen.findByTestId("retention-apply");
    await user.type(screen.getByTestId("retention-days"), "30");
    await user.click(apply);

    expect(calls("retention_set")).toEqual([{ cmd: "retention_set", args: { policy: { max_days: 30, max_events: null } } }]);
    expect(apply).toBeDisabled();
    await user.click(apply);
    expect(calls("retention_set")).toHaveLength(1);

    finish({ total_events: 1, newest_id: 1, db_size_bytes: 1024, retention: { max_days: 30, max_events: null } });
    await waitFor(() => expect(apply).toBeEnabled());
    expect(await screen.findByTestId("toast")).toHaveTextContent("Retention applied. 1 events kept.");
    expect(screen.getByTestId("retention-days")).toHaveValue(30);
  });

  it("invalidates exactly the queries a success changes, and they are fetched again", async () => {
    engine.current = timelineEngine([summary(1)], { source_send_test: 42 });
    const user = userEvent.setup();
    const app = await renderApp("/sources");
    await screen.findByTestId("source-row");
    const before = calls("sources_list").length;
    const invalidate = vi.spyOn(app.client, "invalidateQueries");

    await user.click(screen.getByTestId("source-send-test"));
    expect(await screen.findByTestId("toast")).toHaveTextContent("Test event #42 received");
    expect(invalidate.mock.calls.map(([filters]) => filters?.queryKey)).toEqual([queryKeys.sources, queryKeys.stats]);
    await waitFor(() => expect(calls("sources_list").length).toBe(before + 1));
  });

  it("still reports a success that removed its own screen", async () => {
    engine.current = timelineEngine([summary(1)]);
    engine.current.store.rules = [rule()];
    const user = userEvent.setup();
    await renderApp("/automations");
    await user.click(await screen.findByTestId("rule-remove"));
    await user.click(screen.getByTestId("rule-remove-confirm"));
    expect(await screen.findByTestId("rules-empty")).toBeInTheDocument();
    expect(screen.queryByTestId("rule-card")).not.toBeInTheDocument();
    expect(await screen.findByTestId("toast")).toHaveTextContent("Removed the rule for retrain-birds");
  });
});
