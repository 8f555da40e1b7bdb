import { describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { DeletedHookPolicy, TunnelConfig, TunnelStatus } from "./bindings.gen";
import { summary, timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

const reachable = (url: string): TunnelStatus => ({
  provider: "bore",
  state: "reachable",
  public_url: url,
  verified_at: "2026-12-03T08:00:00.000Z",
  rtt_ms: 142,
  error: null,
  kept_by: "app (pid 4242)",
  note: null,
  cloudflared_found: null,
});

const off = (cloudflared: string | null): TunnelStatus => ({
  provider: null,
  state: "stopped",
  public_url: null,
  verified_at: null,
  rtt_ms: null,
  error: null,
  kept_by: null,
  note: "No tunnel is set up.",
  cloudflared_found: cloudflared,
});

describe("Settings: Tunnel", () => {
  it("saves a bore tunnel, shows it reachable with its URL, and tests it now", async () => {
    let status: TunnelStatus | null = null;
    const sent: TunnelConfig[] = [];
    engine.current = timelineEngine([summary(1)], {
      tunnel_status: () => status ?? off(null),
      tunnel_set: (args?: Record<string, unknown>) => {
        sent.push(args!.config as TunnelConfig);
        status = reachable("http://127.0.0.1:31337");
        return status;
      },
      tunnel_test: { public_url: "http://127.0.0.1:31337", reachable: true, rtt_ms: 9, attempts: 1, error: null },
    });
    const user = userEvent.setup();
    await renderApp("/settings");
    expect(await screen.findByTestId("tunnel-summary")).toHaveTextContent("Off");
    await user.click(screen.getByTestId("tunnel-provider-bore"));
    await user.type(screen.getByTestId("tunnel-server"), "127.0.0.1");
    await user.click(screen.getByTestId("tunnel-save"));

    await waitFor(() => expect(screen.getByTestId("tunnel-summary")).toHaveTextContent("Reachable from the internet · 142 ms"));
    expect(sent).toEqual([{ provider: "bore", server: "127.0.0.1", secret_name: "bore-secret", https_url: null }]);
    expect(screen.getByTestId("tunnel-public-url")).toHaveTextContent("http://127.0.0.1:31337");
    expect(screen.getByTestId("tunnel-section-status")).toHaveTextContent("kept by app (pid 4242)");
    const bar = await screen.findByTestId("tunnel-status");
    await waitFor(() => expect(bar).toHaveAttribute("data-state", "reachable"));
    expect(within(bar).getByText("Reachable from the internet · 142 ms")).toBeInTheDocument();

    await user.click(screen.getByTestId("tunnel-test"));
    expect(await screen.findByTestId("tunnel-test-result")).toHaveTextContent("Reachable from the internet · 9 ms");
  });

  it("says why a tunnel cannot be used, in the engine's words", async () => {
    engine.current = timelineEngine([summary(1)], {
      tunnel_set: () => {
        throw { code: "invalid_argument", message: "bore servers listen for clients on port 7835 only; give 'b.example' or 'b.example:7835'." };
      },
    });
    const user = userEvent.setup();
    await renderApp("/settings");
    await user.click(await screen.findByTestId("tunnel-provider-bore"));
    await user.type(screen.getByTestId("tunnel-server"), "b.example:9000");
    await user.click(screen.getByTestId("tunnel-save"));
    expect(await screen.findByTestId("tunnel-save-error")).toHaveTextContent("port 7835 only");
  });

  it("shows an unreachable tunnel's reason in the status bar", async () => {
    engine.current = timelineEngine([summary(1)], {
      tunnel_status: {
        ...reachable("https://x.trycloudflare.com"),
        provider: "cloudflared",
        state: "unreachable",
        error: { code: "tunnel_unreachable", message: "cloudflared exited (exit status: 1). Trying again in 4 s." },
      },
    });
    await renderApp("/timeline");
    const bar = await screen.findByTestId("tunnel-status");
    expect(bar).toHaveAttribute("data-state", "unreachable");
    expect(within(bar).getByText("Unreachable")).toHaveAttribute("title", expect.stringContaining("cloudflared exited"));
  });

  it("lays out every choice when cloudflared is missing, and saves ngrok with its authtoken's secret name", async () => {
    const sent: TunnelConfig[] = [];
    engine.current = timelineEngine([summary(1)], {
      tunnel_status: off(null),
      tunnel_set: (args?: Record<string, unknown>) => {
        sent.push(args!.config as TunnelConfig);
        return { ...reachable("https://my-name.ngrok-free.app"), provider: "ngrok" };
      },
    });
    const user = userEvent.setup();
    await renderApp("/settings");
    const choices = await screen.findByTestId("tunnel-choices");
    expect(choices).toHaveTextContent("brew install cloudflared");
    expect(choices).toHaveTextContent("winget install --id Cloudflare.cloudflared");
    expect(choices).toHaveTextContent("ngrok");
    await user.click(screen.getByTestId("tunnel-provider-ngrok"));
    await user.type(screen.getByTestId("tunnel-domain"), "my-name.ngrok-free.app");
    await user.click(screen.getByTestId("tunnel-save"));
    await waitFor(() => expect(sent).toEqual([{ provider: "ngrok", authtoken_secret: "ngrok-authtoken", domain: "my-name.ngrok-free.app" }]));
  });

  it("offers the quick tunnel first when cloudflared is installed, and a named tunnel with its token's secret", async () => {
    const sent: TunnelConfig[] = [];
    engine.current = timelineEngine([summary(1)], {
      tunnel_status: off("/usr/local/bin/cloudflared"),
      tunnel_set: (args?: Record<string, unknown>) => {
        sent.push(args!.config as TunnelConfig);
        return { ...reachable("https://hooks.example.org"), provider: "cloudflared" };
      },
    });
    const user = userEvent.setup();
    await renderApp("/settings");
    expect(await screen.findByTestId("tunnel-choices")).toHaveTextContent("cloudflared is installed (/usr/local/bin/cloudflared)");
    expect(screen.getByTestId("tunnel-provider-cloudflared")).toBeChecked();
    await user.click(screen.getByTestId("tunnel-named"));
    await user.type(screen.getByTestId("tunnel-hostname"), "hooks.example.org");
    await user.click(screen.getByTestId("tunnel-save"));
    await waitFor(() =>
      expect(sent).toEqual([
        { provider: "cloudflared", binary: null, named: { token_secret: "cloudflare-tunnel-token", hostname: "hooks.example.org" } },
      ]),
    );
  });

  it("lets the user keep a webhook deleted in Label Studio deleted", async () => {
    let policy: DeletedHookPolicy = "recreate";
    engine.current = timelineEngine([summary(1)], {
      deleted_hook_policy: () => policy,
      deleted_hook_policy_set: (args?: Record<string, unknown>) => {
        policy = args!.policy as DeletedHookPolicy;
        return policy;
      },
    });
    const user = userEvent.setup();
    await renderApp("/settings");
    const select = await screen.findByTestId("deleted-hook-policy");
    expect(select).toHaveValue("recreate");
    await user.selectOptions(select, "report");
    await waitFor(() => expect(policy).toBe("report"));
    expect(screen.getByTestId("deleted-hook-policy")).toHaveValue("report");
  });
});
