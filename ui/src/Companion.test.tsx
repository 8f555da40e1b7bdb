import { describe, expect, it, vi } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { AutostartStatus, CompanionPrefs } from "./bindings.gen";
import { CompanionSection } from "./components/CompanionSection";
import { fakeEngine } from "./test/fakeEngine";
import { renderWithQuery } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fakeEngine").fakeEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

const defaults: CompanionPrefs = {
  on_close: "keep_receiving",
  close_noticed: false,
  notify: {
    run_ended: true,
    aquarium_issue: true,
    webhook_off: true,
    tunnel_down: true,
    loop_check_failed: true,
    catch_up: true,
    automation: true,
  },
};

function setup() {
  let prefs = defaults;
  let autostart: AutostartStatus = { enabled: false, entry: null, command: null };
  engine.current = fakeEngine({
    companion_prefs: () => prefs,
    companion_prefs_set: ({ prefs: next }) => (prefs = next),
    autostart_status: () => autostart,
    autostart_set: ({ enabled }) =>
      (autostart = enabled
        ? { enabled, entry: "/home/u/.config/autostart/loopline.desktop", command: "/usr/bin/loopline-app --hidden" }
        : { enabled, entry: null, command: null }),
    app_quit: null,
  });
  return engine.current;
}

describe("Settings: running in the background", () => {
  it("keeps receiving by default and stores the choice to quit instead", async () => {
    const fake = setup();
    renderWithQuery(<CompanionSection />);
    const keep = (await screen.findByTestId("on-close-keep_receiving")) as HTMLInputElement;
    await waitFor(() => expect(keep.checked).toBe(true));
    await userEvent.click(screen.getByTestId("on-close-quit"));
    await waitFor(() => expect((screen.getByTestId("on-close-quit") as HTMLInputElement).checked).toBe(true));
    const saved = fake.calls.find((c) => c.cmd === "companion_prefs_set")!.args!.prefs as CompanionPrefs;
    expect(saved.on_close).toBe("quit");
    expect(saved.notify).toEqual(defaults.notify);
  });

  it("switches one notification off and leaves the others", async () => {
    const fake = setup();
    renderWithQuery(<CompanionSection />);
    const box = (await screen.findByTestId("notify-aquarium_issue")) as HTMLInputElement;
    await waitFor(() => expect(box.checked).toBe(true));
    await userEvent.click(box);
    await waitFor(() => expect(box.checked).toBe(false));
    const saved = fake.calls.find((c) => c.cmd === "companion_prefs_set")!.args!.prefs as CompanionPrefs;
    expect(saved.notify).toEqual({ ...defaults.notify, aquarium_issue: false });
  });

  it("starts at login only when asked, and names the login entry", async () => {
    setup();
    renderWithQuery(<CompanionSection />);
    const toggle = (await screen.findByTestId("autostart-toggle")) as HTMLInputElement;
    await waitFor(() => expect(toggle.disabled).toBe(false));
    expect(toggle.checked).toBe(false);
    await userEvent.click(toggle);
    expect(await screen.findByTestId("autostart-entry")).toHaveTextContent("/home/u/.config/autostart/loopline.desktop");
    await userEvent.click(toggle);
    await waitFor(() => expect(screen.queryByTestId("autostart-entry")).toBeNull());
  });
});
