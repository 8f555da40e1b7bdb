import { describe, expect, it, vi, beforeEach } from "vitest";
import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeEngine, running } from "./test/fakeEngine";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fakeEngine").fakeEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

import type { ReceiverStatus } from "./bindings.gen";
import { appInfo as info } from "./test/fixtures";

describe("App shell", () => {
  beforeEach(() => {
    engine.current = fakeEngine({
      receiver_status: running(),
      engine_status: null,
      app_info: info,
      sources_list: [],
      events_list: { events: [], next_before_id: null },
      timeline_stats: { total_events: 0, newest_id: null, db_size_bytes: 40960, retention: { max_days: null, max_events: null } },
    });
  });

  it("shows the sidebar and the receiver's address", async () => {
    await renderApp();
    for (const label of ["Timeline", "Sources", "Setup", "Settings"]) {
      expect(screen.getByRole("link", { name: label })).toBeInTheDocument();
    }
    expect(await screen.findByTestId("receiver-address")).toHaveTextContent("127.0.0.1:8787");
    expect(screen.getByTestId("receiver-status")).toHaveAttribute("data-state", "running");
    expect(await screen.findByTestId("timeline-empty")).toHaveTextContent("No events yet");
  });

  it("follows the engine's pushed status live", async () => {
    await renderApp();
    await screen.findByTestId("receiver-address");
    act(() => engine.current!.emit("receiver-status", running("127.0.0.1:9999")));
    await waitFor(() => expect(screen.getByTestId("receiver-address")).toHaveTextContent("127.0.0.1:9999"));
  });

  it("explains a taken port and moves to the offered one", async () => {
    let status: ReceiverStatus = {
      state: "failed",
      listen: "127.0.0.1:8787",
      error: { code: "port_in_use", message: "Port 8787 on 127.0.0.1 is already in use by another program." },
      suggested_listen: "127.0.0.1:8788",
    };
    engine.current = fakeEngine({
      receiver_status: () => status,
      engine_status: null,
      app_info: info,
      receiver_start: (args) => {
        status = { state: "running", listen: args.listen, error: null, suggested_listen: null };
        return status;
      },
    });
    await renderApp();
    expect(await screen.findByTestId("receiver-error")).toHaveTextContent("already in use");
    await userEvent.click(screen.getByRole("button", { name: "Use 127.0.0.1:8788" }));
    await waitFor(() => expect(screen.getByTestId("receiver-address")).toHaveTextContent("127.0.0.1:8788"));
    expect(engine.current.calls).toContainEqual({ cmd: "receiver_start", args: { listen: "127.0.0.1:8788" } });
    expect(screen.queryByTestId("receiver-error")).not.toBeInTheDocument();
  });

  it("navigates between pages and shows where the data lives", async () => {
    await renderApp();
    await userEvent.click(screen.getByRole("link", { name: "Settings" }));
    expect(await screen.findByTestId("settings-data")).toHaveTextContent("loopline.db");
    expect(screen.getByRole("link", { name: "Settings" })).toHaveAttribute("aria-current", "page");
    await userEvent.click(screen.getByRole("link", { name: "Setup" }));
    expect(await screen.findByTestId("setup-step-1")).toHaveTextContent("Label Studio");
  });

  it("shows why the engine did not start instead of the pages", async () => {
    engine.current = fakeEngine({
      engine_status: { code: "db_newer_schema", message: "The database at /x/loopline.db was written by a newer Loopline." },
      receiver_status: () => new Error("engine unavailable"),
    });
    await renderApp();
    expect(await screen.findByTestId("engine-error")).toHaveTextContent("newer Loopline");
    expect(screen.queryByTestId("timeline-empty")).not.toBeInTheDocument();
  });

  it("lets the user try again, or use another folder, without a restart (issue 22.20)", async () => {
    let opened = false;
    engine.current = fakeEngine({
      engine_status: () => (opened ? null : { code: "data_dir_unavailable", message: "Loopline cannot write to /x (permission denied)." }),
      receiver_status: running(),
      app_info: info,
      engine_retry: () => {
        throw { code: "data_dir_unavailable", message: "Loopline cannot write to /x (permission denied)." };
      },
      engine_open_data_dir: () => {
        opened = true;
        return info;
      },
    });
    await renderApp();
    expect(await screen.findByTestId("engine-error")).toHaveTextContent("permission denied");
    await userEvent.click(screen.getByTestId("engine-retry"));
    expect(await screen.findByTestId("engine-reopen-error")).toHaveTextContent("cannot write");
    expect(screen.getByTestId("engine-open-dir")).toBeDisabled();
    await userEvent.type(screen.getByTestId("engine-data-dir"), "/home/me/loopline-data");
    await userEvent.click(screen.getByTestId("engine-open-dir"));
    await waitFor(() => expect(screen.queryByTestId("engine-error")).not.toBeInTheDocument());
    expect(engine.current.calls).toContainEqual({ cmd: "engine_open_data_dir", args: { dataDir: "/home/me/loopline-data" } });
  });
});

describe("Settings", () => {
  it("shows the error when a new address is refused", async () => {
    engine.current = fakeEngine({
      receiver_status: running(),
      engine_status: null,
      app_info: info,
      label_studio_url: null,
      secrets_list: [],
      receiver_start: () => {
        throw { code: "listen_not_loopback", message: "Refusing to listen on 0.0.0.0:8787." };
      },
    });
    await renderApp();
    await userEvent.click(screen.getByRole("link", { name: "Settings" }));
    const input = await screen.findByTestId("settings-listen");
    await userEvent.clear(input);
    await userEvent.type(input, "0.0.0.0:8787");
    await userEvent.click(screen.getByTestId("settings-listen-apply"));
    expect(await screen.findByTestId("settings-listen-error")).toHaveTextContent("Refusing");
  });
});
