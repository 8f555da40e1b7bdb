import { afterEach, describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import { summary, timelineEngine } from "./test/fixtures";
import indexHtml from "../index.html?raw";

// index.html's frame is the window's first paint (B8): it must stay until the first page
// replaces it, and name the same pages as the Sidebar.

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));
const opened = vi.hoisted(() => ({ wait: Promise.resolve(), open: () => {}, asked: 0 }));

vi.mock("./api/ipc", () => ({
  // Every call waits until the test says the engine has opened, as ready_engine does.
  call: async (cmd: string, args?: Record<string, unknown>) => {
    opened.asked += 1;
    await opened.wait;
    return engine.current!.call(cmd, args);
  },
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

function loadIndexHtml() {
  document.body.innerHTML = new DOMParser().parseFromString(indexHtml, "text/html").body.innerHTML;
}

afterEach(() => {
  document.body.innerHTML = "";
});

describe("the first frame (index.html)", () => {
  it("stays on screen while the engine opens, then the page replaces it", async () => {
    engine.current = timelineEngine([summary(1)]);
    opened.wait = new Promise<void>((done) => (opened.open = done));
    loadIndexHtml();
    window.location.hash = "#/";

    await import("./main");
    // The router is waiting on the engine: the frame is still there, nothing blank.
    await waitFor(() => expect(opened.asked).toBeGreaterThan(0));
    expect(screen.getByTestId("boot-shell")).toHaveTextContent("Opening Loopline…");

    opened.open();
    expect(await screen.findByRole("heading", { level: 1, name: "Timeline" })).toBeInTheDocument();
    expect(screen.queryByTestId("boot-shell")).toBeNull();
  });

  it("names the same pages, in the same order, as the Sidebar", async () => {
    loadIndexHtml();
    const shell = [...within(screen.getByTestId("boot-shell")).getAllByRole("link")].map((a) => [
      a.textContent,
      a.getAttribute("href"),
    ]);
    document.body.innerHTML = "";

    engine.current = timelineEngine([summary(1)]);
    opened.wait = Promise.resolve();
    const { renderApp } = await import("./test/render");
    await renderApp("/timeline");
    const sidebar = within(screen.getByTestId("sidebar"))
      .getAllByRole("link")
      .map((a) => [a.textContent, `#${a.getAttribute("href")}`]);
    expect(shell).toEqual(sidebar);
  });
});
