import { describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { LabelStudioIdentity, SecretInfo } from "./bindings.gen";
import { summary, timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));


const TOKEN = "ls_pat_s3cret_value_0123456789";
const LS = "http://localhost:8080";

const identity = (over: Partial<LabelStudioIdentity> = {}): LabelStudioIdentity => ({
  url: LS,
  email: "ada@loopline.test",
  username: "ada",
  version: "1.23.2",
  token_kind: "personal_access_token",
  ...over,
});

const lsSecret: SecretInfo = { name: "label-studio-token", hint: "…6789", store: "keychain" };

async function openSettings(answers: Record<string, unknown> = {}) {
  engine.current = timelineEngine([summary(1)], answers);
  const user = userEvent.setup();
  await renderApp();
  await user.click(screen.getByRole("link", { name: "Settings" }));
  return user;
}

describe("Settings: Label Studio credentials", () => {
  it("verifies and saves, shows who is connected and clears the token", async () => {
    let secrets: SecretInfo[] = [];
    const user = await openSettings({
      secrets_list: () => secrets,
      label_studio_connect: () => {
        secrets = [lsSecret];
        return identity();
      },
    });
    const url = await screen.findByTestId("credentials-ls-url");
    expect(screen.queryByTestId("credentials-ls-verify")).not.toBeInTheDocument();
    expect(screen.getByText("A legacy token or a Personal Access Token from Account & Settings in Label Studio.")).toBeInTheDocument();
    await user.type(url, LS);
    const token = screen.getByTestId("credentials-ls-token");
    expect(token).toHaveAttribute("type", "password");
    await user.type(token, TOKEN);
    await user.click(screen.getByTestId("credentials-ls-save"));

    const status = await screen.findByTestId("credentials-ls-status");
    expect(status).toHaveAttribute("data-state", "ok");
    expect(status).toHaveTextContent(
      "Connected as ada@loopline.test to Label Studio 1.23.2 at http://localhost:8080 (personal access token, refreshed automatically).",
    );
    expect(engine.current!.calls).toContainEqual({ cmd: "label_studio_connect", args: { url: LS, token: TOKEN } });
    expect(screen.getByTestId("credentials-ls-token")).toHaveValue("");
    expect(await screen.findByTestId("credentials-ls-verify")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId("secrets-table")).toHaveTextContent("label-studio-token"));
    expect(document.body.textContent).not.toContain(TOKEN);
  });

  it("shows a refusal in words and keeps the token for a retry", async () => {
    const user = await openSettings({
      label_studio_url: LS,
      label_studio_connect: () => {
        throw { code: "ls_unauthorized", message: "Label Studio refused the token. Copy it again from Account & Settings." };
      },
    });
    await waitFor(() => expect(screen.getByTestId("credentials-ls-url")).toHaveValue(LS));
    await user.type(screen.getByTestId("credentials-ls-token"), TOKEN);
    await user.click(screen.getByTestId("credentials-ls-save"));
    const error = await screen.findByTestId("credentials-ls-error");
    expect(error).toHaveTextContent("Label Studio refused the token.");
    expect(error).toHaveAttribute("role", "alert");
    expect(screen.getByTestId("credentials-ls-status")).toHaveAttribute("data-state", "failed");
    expect(screen.getByTestId("credentials-ls-token")).toHaveValue(TOKEN);
    expect(document.body.textContent).not.toContain(TOKEN);
  });

  it("disables the buttons and says Checking… while verifying the stored token", async () => {
    let answer: (v: LabelStudioIdentity) => void = () => {};
    const user = await openSettings({
      label_studio_url: LS,
      label_studio_verify: () => new Promise<LabelStudioIdentity>((resolve) => (answer = resolve)),
    });
    await user.click(await screen.findByTestId("credentials-ls-verify"));
    expect(await screen.findByText("Checking…")).toBeInTheDocument();
    expect(screen.getByTestId("credentials-ls-verify")).toBeDisabled();
    expect(screen.getByTestId("credentials-ls-save")).toBeDisabled();
    answer(identity({ token_kind: "legacy" }));
    const status = await screen.findByTestId("credentials-ls-status");
    expect(status).toHaveTextContent("Connected as ada@loopline.test to Label Studio 1.23.2 at http://localhost:8080 (legacy token).");
    expect(screen.queryByText("Checking…")).not.toBeInTheDocument();
    expect(engine.current!.calls).toContainEqual({ cmd: "label_studio_verify", args: undefined });
  });
});

describe("Settings: stored secrets", () => {
  it("lists names and hints only", async () => {
    await openSettings({
      secrets_list: [lsSecret, { name: "aquarium-secret", hint: null, store: "environment" }],
    });
    const rows = await screen.findAllByTestId("secret-row");
    expect(rows.map((r) => r.getAttribute("data-name"))).toEqual(["label-studio-token", "aquarium-secret"]);
    expect(rows[0]).toHaveTextContent("…6789");
    expect(rows[0]).toHaveTextContent("keychain");
    expect(rows[1]).toHaveTextContent("—");
    expect(rows[1]).toHaveTextContent("environment");
  });

  it("saves a secret, refreshes the list and clears the value", async () => {
    let secrets: SecretInfo[] = [];
    const user = await openSettings({
      secrets_list: () => secrets,
      secret_set: (args?: Record<string, unknown>) => {
        const saved = { name: String(args?.name), hint: "…alue", store: "keychain" };
        secrets = [saved];
        return saved;
      },
    });
    await user.type(await screen.findByTestId("secret-name"), "ml-backend");
    await user.type(screen.getByTestId("secret-value"), "very-secret-value");
    await user.click(screen.getByTestId("secret-save"));
    expect(engine.current!.calls).toContainEqual({ cmd: "secret_set", args: { name: "ml-backend", value: "very-secret-value" } });
    const row = await screen.findByTestId("secret-row");
    expect(row).toHaveAttribute("data-name", "ml-backend");
    expect(screen.getByTestId("secret-value")).toHaveValue("");
    expect(engine.current!.calls.filter((c) => c.cmd === "secrets_list").length).toBeGreaterThan(1);
    expect(document.body.textContent).not.toContain("very-secret-value");
  });

  it("shows a failed save in words", async () => {
    const user = await openSettings({
      secret_set: () => {
        throw { code: "keychain_unavailable", message: "The system keychain is not available." };
      },
    });
    await user.type(await screen.findByTestId("secret-name"), "x");
    await user.type(screen.getByTestId("secret-value"), "y");
    await user.click(screen.getByTestId("secret-save"));
    expect(await screen.findByTestId("secrets-error")).toHaveTextContent("The system keychain is not available.");
    expect(screen.getByTestId("secret-value")).toHaveValue("y");
  });

  it("asks before deleting, then deletes", async () => {
    let secrets: SecretInfo[] = [lsSecret];
    const user = await openSettings({
      secrets_list: () => secrets,
      secret_delete: () => {
        secrets = [];
        return null;
      },
    });
    const row = await screen.findByTestId("secret-row");
    await user.click(within(row).getByTestId("secret-delete"));
    expect(engine.current!.calls.some((c) => c.cmd === "secret_delete")).toBe(false);
    await user.click(within(row).getByTestId("secret-delete-confirm"));
    expect(engine.current!.calls).toContainEqual({ cmd: "secret_delete", args: { name: "label-studio-token" } });
    await waitFor(() => expect(screen.queryByTestId("secret-row")).not.toBeInTheDocument());
  });
});
