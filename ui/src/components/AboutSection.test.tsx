import { afterEach, describe, expect, it, vi } from "vitest";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Diagnostics } from "../bindings.gen";
import { appInfo } from "../test/fixtures";
import { fakeEngine } from "../test/fakeEngine";
import { renderWithQuery } from "../test/render";
import { AboutSection } from "./AboutSection";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("../test/fakeEngine").fakeEngine> | null }));

vi.mock("../api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

const diagnostics: Diagnostics = { report: '{"info": {"version": "0.1.0"}, "logs": {"app.log": ["token ••••••"]}}', masked: 3 };

afterEach(() => vi.restoreAllMocks());

describe("Settings › About", () => {
  it("names the version, commit, data folder, schema and log file", async () => {
    engine.current = fakeEngine({ app_info: appInfo, diagnostics });
    renderWithQuery(<AboutSection />);
    expect(await screen.findByTestId("about-version")).toHaveTextContent("0.1.0 (commit 77b2c44)");
    const about = screen.getByTestId("about");
    expect(about).toHaveTextContent(appInfo.data_dir);
    expect(about).toHaveTextContent("version 2");
    expect(screen.getByTestId("about-log")).toHaveTextContent("/home/ada/.local/state/loopline/logs/app.log");
  });

  it("copies the engine's redacted report to the clipboard", async () => {
    engine.current = fakeEngine({ app_info: appInfo, diagnostics });
    const user = userEvent.setup();
    // After userEvent.setup, which installs its own clipboard stub.
    const writeText = vi.spyOn(navigator.clipboard, "writeText").mockResolvedValue();
    renderWithQuery(<AboutSection />);
    await user.click(await screen.findByTestId("about-copy"));
    expect(await screen.findByTestId("about-copied")).toHaveTextContent("Copied (3 secret values masked).");
    expect(writeText).toHaveBeenCalledWith(diagnostics.report);
    expect(engine.current.calls.map((c) => c.cmd)).toContain("diagnostics");
  });

  it("shows the report to copy by hand when the clipboard refuses", async () => {
    engine.current = fakeEngine({ app_info: appInfo, diagnostics });
    const user = userEvent.setup();
    vi.spyOn(navigator.clipboard, "writeText").mockRejectedValue(new Error("not allowed"));
    renderWithQuery(<AboutSection />);
    await user.click(await screen.findByTestId("about-copy"));
    expect(await screen.findByTestId("about-report")).toHaveValue(diagnostics.report);
  });

  it("says why when the engine cannot collect the report", async () => {
    engine.current = fakeEngine({ app_info: appInfo, diagnostics: new Error("The database is busy.") });
    const user = userEvent.setup();
    renderWithQuery(<AboutSection />);
    await user.click(await screen.findByTestId("about-copy"));
    expect(await screen.findByRole("alert")).toHaveTextContent("The database is busy.");
  });
});
