import { describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { CreatedSource } from "./bindings.gen";
import { source, summary, timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));


const created = (over: Partial<CreatedSource> = {}): CreatedSource => ({
  id: "src_new",
  kind: "label-studio",
  name: "Cells",
  hook_path: "/hooks/src_new",
  hook_url: "http://127.0.0.1:8787/hooks/src_new",
  header_name: "X-Loopline-Token",
  token: "llt_s3cret_once",
  ...over,
});

async function openSources(answers: Record<string, unknown> = {}, sources = [source()]) {
  engine.current = timelineEngine([summary(1)], answers);
  engine.current.store.sources = sources;
  const user = userEvent.setup();
  await renderApp();
  await user.click(screen.getByRole("link", { name: "Sources" }));
  return user;
}

describe("Sources", () => {
  it("explains what a source is when there are none", async () => {
    await openSources({}, []);
    expect(await screen.findByTestId("sources-empty")).toHaveTextContent("A source is one sender");
  });

  it("lists sources with their hook path, header and counts", async () => {
    await openSources({}, [source({ previous_secret_valid_until: "2025-03-05T12:00:00.000Z" })]);
    const row = await screen.findByTestId("source-row");
    expect(row).toHaveAttribute("data-source-id", "src_ls");
    expect(row).toHaveTextContent("/hooks/src_ls");
    expect(row).toHaveTextContent("X-Loopline-Token");
    expect(row).toHaveTextContent("3 events");
    expect(row).toHaveTextContent("Previous secret accepted until");
  });

  it("adds a Label Studio source and shows its token once", async () => {
    const user = await openSources({
      source_add: (args?: Record<string, unknown>) => {
        engine.current!.store.sources = [...engine.current!.store.sources, source({ id: "src_new", name: String(args?.name) })];
        return created();
      },
    });
    await user.selectOptions(screen.getByTestId("source-add-kind"), "label-studio");
    expect(screen.queryByTestId("source-add-secret")).not.toBeInTheDocument();
    await user.type(screen.getByTestId("source-add-name"), "Cells");
    await user.click(screen.getByTestId("source-add-submit"));
    expect(engine.current!.calls).toContainEqual({ cmd: "source_add", args: { kind: "label-studio", name: "Cells", secret: null } });
    const panel = await screen.findByTestId("source-created");
    expect(within(panel).getByTestId("source-created-url")).toHaveTextContent("http://127.0.0.1:8787/hooks/src_new");
    expect(within(panel).getByTestId("source-created-header")).toHaveTextContent("X-Loopline-Token: llt_s3cret_once");
    expect(within(panel).getByTestId("source-created-token")).toHaveTextContent("llt_s3cret_once");
    expect(panel).toHaveTextContent("This token is shown once. Loopline keeps only a digest of it.");
    await waitFor(() => expect(screen.getAllByTestId("source-row")).toHaveLength(2));
    await user.click(screen.getByTestId("source-created-dismiss"));
    expect(screen.queryByTestId("source-created")).not.toBeInTheDocument();
    expect(document.body).not.toHaveTextContent("llt_s3cret_once");
  });

  it("asks Aquarium for its shared secret", async () => {
    const user = await openSources({ source_add: created({ kind: "aquarium", token: null, header_name: "X-Aquarium-Signature" }) });
    await user.selectOptions(screen.getByTestId("source-add-kind"), "aquarium");
    await user.type(screen.getByTestId("source-add-name"), "Aq");
    expect(screen.getByTestId("source-add-submit")).toBeDisabled();
    const secret = screen.getByTestId("source-add-secret");
    expect(secret).toHaveAttribute("type", "password");
    await user.type(secret, "from-aquarium");
    await user.click(screen.getByTestId("source-add-submit"));
    expect(engine.current!.calls).toContainEqual({ cmd: "source_add", args: { kind: "aquarium", name: "Aq", secret: "from-aquarium" } });
    const panel = await screen.findByTestId("source-created");
    expect(within(panel).getByTestId("source-created-header")).toHaveTextContent("X-Aquarium-Signature");
    expect(within(panel).queryByTestId("source-created-token")).not.toBeInTheDocument();
  });

  it("adds an Aquarium source that needs no secret when the user says so", async () => {
    const user = await openSources({ source_add: created({ kind: "aquarium", token: null, header_name: "X-Aquarium-Secret" }) });
    await user.selectOptions(screen.getByTestId("source-add-kind"), "aquarium");
    await user.type(screen.getByTestId("source-add-name"), "Open Aq");
    await user.click(screen.getByTestId("source-add-no-secret"));
    expect(screen.queryByTestId("source-add-secret")).not.toBeInTheDocument();
    await user.click(screen.getByTestId("source-add-submit"));
    expect(engine.current!.calls).toContainEqual({ cmd: "source_add", args: { kind: "aquarium", name: "Open Aq", secret: null, noSecret: true } });
  });

  it("shows why adding failed", async () => {
    const user = await openSources({
      source_add: () => {
        throw { code: "keychain_unavailable", message: "The system keychain is locked. Unlock it and try again." };
      },
    });
    await user.type(screen.getByTestId("source-add-name"), "Cells");
    await user.click(screen.getByTestId("source-add-submit"));
    expect(await screen.findByTestId("source-add-error")).toHaveTextContent("keychain is locked");
  });

  it("rotates with a grace period and shows the new token", async () => {
    const user = await openSources({ source_rotate: created({ id: "src_ls", name: "Bird parts LS", token: "llt_rotated" }) });
    const row = await screen.findByTestId("source-row");
    await user.click(within(row).getByTestId("source-rotate"));
    await user.selectOptions(within(row).getByTestId("source-rotate-grace"), "86400");
    await user.click(within(row).getByTestId("source-rotate-confirm"));
    expect(engine.current!.calls).toContainEqual({ cmd: "source_rotate", args: { id: "src_ls", grace: 86400, secret: null } });
    expect(await screen.findByTestId("source-created-token")).toHaveTextContent("llt_rotated");
  });

  it("sends a test event and reports it as a toast", async () => {
    const user = await openSources({ source_send_test: 42 });
    await user.click(await screen.findByTestId("source-send-test"));
    expect(engine.current!.calls).toContainEqual({ cmd: "source_send_test", args: { id: "src_ls" } });
    expect(await screen.findByTestId("toast")).toHaveTextContent("Test event #42 received");
  });

  it("removes a source after confirming", async () => {
    const user = await openSources({
      source_remove: () => {
        engine.current!.store.sources = [];
        return null;
      },
    });
    await user.click(await screen.findByTestId("source-remove"));
    expect(engine.current!.calls.some((c) => c.cmd === "source_remove")).toBe(false);
    await user.click(screen.getByTestId("source-remove-confirm"));
    expect(engine.current!.calls).toContainEqual({ cmd: "source_remove", args: { id: "src_ls" } });
    expect(await screen.findByTestId("sources-empty")).toBeInTheDocument();
  });
});

describe("Settings: timeline retention", () => {
  it("applies the policy and shows the size", async () => {
    engine.current = timelineEngine([summary(1)], {
      retention_set: (args?: Record<string, unknown>) => ({
        total_events: 1,
        newest_id: 1,
        db_size_bytes: 1024 * 1024,
        retention: (args?.policy as object) ?? null,
      }),
    });
    const user = userEvent.setup();
    await renderApp();
    await user.click(screen.getByRole("link", { name: "Settings" }));
    expect(await screen.findByTestId("timeline-db-size")).toHaveTextContent("2.0 MB");
    await user.type(screen.getByTestId("retention-days"), "30");
    await user.click(screen.getByTestId("retention-apply"));
    expect(engine.current.calls).toContainEqual({ cmd: "retention_set", args: { policy: { max_days: 30, max_events: null } } });
    await waitFor(() => expect(screen.getByTestId("timeline-db-size")).toHaveTextContent("1.0 MB"));
    expect(screen.getByTestId("retention-days")).toHaveValue(30);

    await user.clear(screen.getByTestId("retention-days"));
    await user.type(screen.getByTestId("retention-events"), "5000");
    await user.click(screen.getByTestId("retention-apply"));
    expect(engine.current.calls).toContainEqual({ cmd: "retention_set", args: { policy: { max_days: null, max_events: 5000 } } });
  });
});
