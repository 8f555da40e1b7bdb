import { describe, expect, it, vi } from "vitest";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeEngine, running } from "./test/fakeEngine";
import { renderApp } from "./test/render";
import { appInfo as info } from "./test/fixtures";
import type { ApiError, DbBackup, DbCheck } from "./bindings.gen";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fakeEngine").fakeEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

const corrupt: ApiError = {
  code: "db_corrupt",
  message: "The database at /x/loopline.db is damaged. SQLite reports: Tree 4 page 212: btreeInitPage() returns error code 11.",
};
const backup = (at: string, good = true): DbBackup => ({
  path: `/x/backups/loopline-${at.replace(/:/g, "-")}.db`,
  taken_at: at,
  taken_at_ms: Date.parse(at),
  size_bytes: 2_400_000,
  good,
});
const check = (backups: DbBackup[]): DbCheck => ({
  db_path: "/x/loopline.db",
  exists: true,
  ok: false,
  problems: ["Tree 4 page 212: btreeInitPage() returns error code 11"],
  backups,
});

/** The engine after the restore: the pages' usual answers. */
const healthy = {
  receiver_status: running(),
  app_info: info,
  sources_list: [],
  events_list: { events: [], next_before_id: null },
  timeline_stats: { total_events: 0, newest_id: null, db_size_bytes: 40960, retention: { max_days: null, max_events: null } },
};

describe("A damaged database", () => {
  it("explains what happened, names the newest good backup, restores it, then shows the pages", async () => {
    let restored = false;
    const newest = backup("2026-12-05T09:30:00.000Z");
    engine.current = fakeEngine({
      ...healthy,
      receiver_status: () => (restored ? running() : new Error("engine unavailable")),
      engine_status: () => (restored ? null : corrupt),
      db_check: check([backup("2026-12-06T09:30:00.000Z", false), newest, backup("2026-12-04T09:30:00.000Z")]),
      db_restore: () => {
        restored = true;
        return { db_path: "/x/loopline.db", restored_from: newest, moved_aside: ["/x/loopline-replaced-2026-12-06T21-00-00.000Z.db"], safety_backup: null };
      },
    });
    await renderApp();
    const screenEl = await screen.findByTestId("db-recovery");
    expect(screenEl).toHaveTextContent("damaged");
    expect(screenEl).toHaveTextContent("btreeInitPage");
    // The damaged newest backup is skipped: the one from the 5th is the one offered.
    const offered = await screen.findByTestId("db-recovery-backup");
    expect(offered).toHaveAttribute("data-taken-at", newest.taken_at);
    expect(offered).toHaveTextContent("received after");
    expect(screen.queryByTestId("engine-error")).not.toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Restore backup" }));
    expect(await screen.findByTestId("timeline-empty")).toBeInTheDocument();
    expect(screen.queryByTestId("db-recovery")).not.toBeInTheDocument();
    expect(engine.current.calls.filter((c) => c.cmd === "db_restore")).toHaveLength(1);
    expect(await screen.findByTestId("toast")).toHaveTextContent("Restored the backup");
  });

  it("says what to do when there is no good backup, and shows a refused restore's reason", async () => {
    engine.current = fakeEngine({
      ...healthy,
      receiver_status: () => new Error("engine unavailable"),
      engine_status: corrupt,
      db_check: check([]),
    });
    await renderApp();
    expect(await screen.findByTestId("db-recovery-none")).toHaveTextContent("move");
    expect(screen.queryByRole("button", { name: "Restore backup" })).not.toBeInTheDocument();
  });

  it("shows why a restore was refused", async () => {
    engine.current = fakeEngine({
      ...healthy,
      receiver_status: () => new Error("engine unavailable"),
      engine_status: corrupt,
      db_check: check([backup("2026-12-05T09:30:00.000Z")]),
      db_restore: () => {
        throw { code: "db_in_use", message: "Another Loopline has the database at /x/loopline.db open. Quit it, then restore again." };
      },
    });
    await renderApp();
    await userEvent.click(await screen.findByRole("button", { name: "Restore backup" }));
    expect(await screen.findByTestId("db-recovery-error")).toHaveTextContent("Quit it");
  });
});
