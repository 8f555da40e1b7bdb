import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider, createHashHistory } from "@tanstack/react-router";
import { run, summary, timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

import { createAppRouter } from "./router";

const calls = (cmd: string) => engine.current!.calls.filter((c) => c.cmd === cmd);
const row = (id: number) => document.querySelector<HTMLElement>(`[data-testid="timeline-row"][data-event-id="${id}"]`);

beforeEach(() => {
  engine.current = timelineEngine([summary(1), summary(2), summary(3)]);
});

describe("Routes", () => {
  it("sends / to the timeline", async () => {
    const app = await renderApp("/");
    expect(await screen.findByRole("heading", { level: 1, name: "Timeline" })).toBeInTheDocument();
    expect(app.path()).toBe("/timeline");
    expect(screen.getByTestId("nav-timeline")).toHaveAttribute("aria-current", "page");
  });

  it.each([
    ["/timeline", "Timeline", "nav-timeline"],
    ["/automations", "Automations", "nav-automations"],
    ["/issues", "Issues", "nav-issues"],
    ["/sources", "Sources", "nav-sources"],
    ["/setup", "Setup", "nav-setup"],
    ["/settings", "Settings", "nav-settings"],
  ])("renders %s as its page", async (path, title, nav) => {
    const app = await renderApp(path);
    expect(await screen.findByRole("heading", { level: 1, name: title })).toBeInTheDocument();
    expect(app.path()).toBe(path);
    expect(screen.getByTestId(nav)).toHaveAttribute("aria-current", "page");
    expect(screen.queryByTestId("not-found")).not.toBeInTheDocument();
  });

  it("shows a not-found page with a link back for an unknown address", async () => {
    const user = userEvent.setup();
    const app = await renderApp("/no/such/page");
    const page = await screen.findByTestId("not-found");
    expect(page).toHaveTextContent("Page not found");
    expect(page).toHaveTextContent("/no/such/page");
    // The shell stays, so the sidebar still works from here.
    expect(screen.getByTestId("sidebar")).toBeInTheDocument();
    expect(screen.getByTestId("statusbar")).toBeInTheDocument();
    await user.click(within(page).getByRole("link", { name: "Back to the timeline" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Timeline" })).toBeInTheDocument();
    expect(app.path()).toBe("/timeline");
  });

  it.each(["/timeline/abc", "/runs/-1", "/automations/runs/-1"])("treats %s, an id that is not a number, as not found", async (path) => {
    await renderApp(path);
    expect(await screen.findByTestId("not-found")).toHaveTextContent(path);
    expect(calls("event_show")).toHaveLength(0);
    expect(calls("run_show")).toHaveLength(0);
  });

  it("changes the route from the sidebar links and keeps their test ids and names", async () => {
    const user = userEvent.setup();
    const app = await renderApp("/timeline");
    for (const [page, label] of [
      ["automations", "Automations"],
      ["sources", "Sources"],
      ["setup", "Setup"],
      ["settings", "Settings"],
      ["timeline", "Timeline"],
    ] as const) {
      const link = screen.getByTestId(`nav-${page}`);
      expect(link).toHaveTextContent(label);
      expect(link).toHaveAttribute("href", `/${page}`);
      await user.click(link);
      await waitFor(() => expect(app.path()).toBe(`/${page}`));
      expect(await screen.findByRole("heading", { level: 1, name: label })).toBeInTheDocument();
      expect(link).toHaveAttribute("aria-current", "page");
    }
    expect(screen.getAllByRole("link", { current: "page" })).toHaveLength(1);
  });

  it("uses the hash in the window, so the address survives a reload", async () => {
    const user = userEvent.setup();
    window.location.hash = "#/automations";
    const router = createAppRouter(createHashHistory());
    render(
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <RouterProvider router={router} />
      </QueryClientProvider>,
    );
    expect(await screen.findByRole("heading", { level: 1, name: "Automations" })).toBeInTheDocument();
    expect(screen.getByTestId("nav-settings")).toHaveAttribute("href", "/#/settings");
    await user.click(screen.getByTestId("nav-sources"));
    await waitFor(() => expect(window.location.hash).toBe("#/sources"));
  });
});

describe("Routes: an event's address", () => {
  const scrollTo = vi.fn(function (this: HTMLElement, options: ScrollToOptions) {
    this.scrollTop = options.top ?? this.scrollTop;
    // As in a browser, the scroll event comes after the call, not inside it.
    setTimeout(() => this.dispatchEvent(new Event("scroll")), 0);
  });
  beforeEach(() => {
    // jsdom has no layout and no element scrolling: give the list room to scroll, and let
    // the virtualizer scroll it through this.
    Object.defineProperty(HTMLElement.prototype, "scrollHeight", { configurable: true, get: () => 100 * 30 });
    Object.defineProperty(HTMLElement.prototype, "scrollTo", { configurable: true, value: scrollTo });
  });
  afterEach(() => {
    // Back to what jsdom has: scrollTo absent, scrollHeight Element's own 0.
    Reflect.deleteProperty(HTMLElement.prototype, "scrollTo");
    Reflect.deleteProperty(HTMLElement.prototype, "scrollHeight");
    scrollTo.mockClear();
  });

  it("opens the event's detail from a deep link and selects its row", async () => {
    await renderApp("/timeline/2");
    const detail = await screen.findByTestId("event-detail");
    expect(detail).toHaveAttribute("data-event-id", "2");
    expect(await within(detail).findByTestId("event-summary-text")).toHaveTextContent("Annotation 2 created");
    await waitFor(() => expect(row(2)).toHaveAttribute("aria-selected", "true"));
    expect(calls("event_show").map((c) => c.args)).toEqual([{ id: 2 }]);
  });

  it("scrolls a deep-linked event into view when it is in the loaded page", async () => {
    engine.current = timelineEngine(Array.from({ length: 250 }, (_, i) => summary(i + 1)));
    await renderApp("/timeline/160");
    await screen.findByTestId("event-detail");
    // Newest first, 250 down to 151 on the first page: #160 is row 91, far below the first screen.
    await waitFor(() => expect(row(160)).toHaveAttribute("aria-selected", "true"));
    expect(scrollTo).toHaveBeenCalled();
    expect(screen.getByTestId("timeline-list").scrollTop).toBeGreaterThan(0);
  });

  it("fetches a deep-linked event by id when it is not in the loaded page", async () => {
    engine.current = timelineEngine(Array.from({ length: 250 }, (_, i) => summary(i + 1)));
    await renderApp("/timeline/5");
    const detail = await screen.findByTestId("event-detail");
    expect(detail).toHaveAttribute("data-event-id", "5");
    expect(await within(detail).findByTestId("event-summary-text")).toHaveTextContent("Annotation 5 created");
    expect(calls("event_show").map((c) => c.args)).toEqual([{ id: 5 }]);
    expect(row(5)).not.toBeInTheDocument();
  });

  it("puts a selected event in the address, and Back closes it again", async () => {
    const user = userEvent.setup();
    const app = await renderApp("/timeline");
    await screen.findAllByTestId("timeline-row");
    await user.click(row(3)!);
    await waitFor(() => expect(app.path()).toBe("/timeline/3"));
    expect(await screen.findByTestId("event-detail")).toHaveAttribute("data-event-id", "3");

    await user.click(row(1)!);
    await waitFor(() => expect(app.path()).toBe("/timeline/1"));
    act(() => app.history.back());
    await waitFor(() => expect(screen.getByTestId("event-detail")).toHaveAttribute("data-event-id", "3"));
    act(() => app.history.back());
    await waitFor(() => expect(app.path()).toBe("/timeline"));
    expect(screen.queryByTestId("event-detail")).not.toBeInTheDocument();
    // The row stays highlighted, so j/k carry on from it.
    expect(row(3)).toHaveAttribute("aria-selected", "true");
  });

  it("closes the detail into /timeline, and j/k while it is open replace the address", async () => {
    const user = userEvent.setup();
    const app = await renderApp("/timeline/3");
    await screen.findByTestId("event-summary-text");
    await user.keyboard("j");
    await waitFor(() => expect(app.path()).toBe("/timeline/2"));
    expect(app.history.length).toBe(1);
    await user.click(within(screen.getByTestId("event-detail")).getByRole("button", { name: /Close/ }));
    await waitFor(() => expect(app.path()).toBe("/timeline"));
    expect(screen.queryByTestId("event-detail")).not.toBeInTheDocument();
    expect(row(2)).toHaveAttribute("aria-selected", "true");
  });
});

describe("Routes: a run's address", () => {
  it.each([
    ["/runs", "/automations"],
    ["/runs/1", "/automations/runs/1"],
  ])("still opens the old address %s, as %s", async (old, now) => {
    Object.assign(engine.current!.store, { runs: [run(2), run(1)] });
    const app = await renderApp(old);
    await waitFor(() => expect(app.path()).toBe(now));
    expect(await screen.findByRole("heading", { level: 1, name: "Automations" })).toBeInTheDocument();
    expect(screen.getByTestId("nav-automations")).toHaveAttribute("aria-current", "page");
  });

  it("opens the run's detail from a deep link", async () => {
    Object.assign(engine.current!.store, { runs: [run(2), run(1)] });
    await renderApp("/automations/runs/1");
    const detail = await screen.findByTestId("run-detail");
    expect(within(detail).getByRole("heading", { name: "Run #1" })).toBeInTheDocument();
    expect(await within(detail).findByTestId("run-arn")).toHaveTextContent(run(1).execution_arn!);
    await waitFor(() => expect(screen.getAllByTestId("run-row")[1]).toHaveAttribute("aria-selected", "true"));
  });

  it("fetches a deep-linked run by id when it is not in the first page", async () => {
    // runs_list returns only the newest runs; run_show answers for any id.
    engine.current = timelineEngine([summary(1)], { runs_list: [run(300)], run_show: (args: { id: number }) => run(args.id) });
    await renderApp("/automations/runs/7");
    const detail = await screen.findByTestId("run-detail");
    expect(within(detail).getByRole("heading", { name: "Run #7" })).toBeInTheDocument();
    expect(await within(detail).findByTestId("run-arn")).toHaveTextContent(run(7).execution_arn!);
    expect(calls("run_show").map((c) => c.args)).toContainEqual({ id: 7 });
    expect(screen.getAllByTestId("run-row").map((r) => r.getAttribute("data-run-id"))).toEqual(["300"]);
  });

  it("puts a selected run in the address, and Back closes it again", async () => {
    const user = userEvent.setup();
    Object.assign(engine.current!.store, { runs: [run(2), run(1)] });
    const app = await renderApp("/automations");
    await user.click(await screen.findByRole("button", { name: "Open run 2" }));
    await waitFor(() => expect(app.path()).toBe("/automations/runs/2"));
    expect(await screen.findByRole("heading", { name: "Run #2" })).toBeInTheDocument();
    // One click, one history entry, even though the row and its button both select.
    expect(app.history.length).toBe(2);
    act(() => app.history.back());
    await waitFor(() => expect(app.path()).toBe("/automations"));
    expect(screen.queryByTestId("run-detail")).not.toBeInTheDocument();
  });
});
