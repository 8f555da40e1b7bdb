import { describe, expect, it, vi } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { AwsSettings, SecretInfo } from "./bindings.gen";
import { awsSettingsSentence } from "./api/credentials";
import { AWS_ARN, awsDefaultChain, summary, timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));


const KEY_ID = "AKIA0123456789ABWXYZ";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETz";
const CONNECTED = `Connected to AWS account 123456789012 as ${AWS_ARN} in eu-west-1.`;

const storedKeys = (over: Partial<AwsSettings> = {}): AwsSettings => ({
  mode: "keys",
  region: "eu-west-1",
  profile: null,
  access_key_hint: "…WXYZ",
  has_session_token: false,
  ...over,
});

async function openSettings(answers: Record<string, unknown> = {}) {
  engine.current = timelineEngine([summary(1)], answers);
  const user = userEvent.setup();
  await renderApp();
  await user.click(screen.getByRole("link", { name: "Settings" }));
  return user;
}

const callsOf = (cmd: string) => engine.current!.calls.filter((c) => c.cmd === cmd);

describe("Settings: AWS credentials", () => {
  it("verifies and saves an access key, says which account it reached and clears the secret", async () => {
    let secrets: SecretInfo[] = [];
    const user = await openSettings({ secrets_list: () => secrets });
    const current = await screen.findByTestId("credentials-aws-current");
    expect(current).toHaveTextContent(
      "Nothing stored: the AWS SDK's default chain is used (AWS_* variables, the default profile)",
    );
    expect(screen.getByTestId("credentials-aws-mode-keys")).toBeChecked();
    expect(screen.queryByTestId("credentials-aws-forget")).not.toBeInTheDocument();
    expect(screen.getByText("Only for temporary credentials (ASIA… keys)")).toBeInTheDocument();

    const save = screen.getByTestId("credentials-aws-save");
    expect(save).toBeDisabled();
    await user.type(screen.getByTestId("credentials-aws-key-id"), KEY_ID);
    const secret = screen.getByTestId("credentials-aws-secret");
    expect(secret).toHaveAttribute("type", "password");
    await user.type(secret, SECRET);
    expect(save).toBeDisabled();
    await user.type(screen.getByTestId("credentials-aws-region"), "eu-west-1");
    expect(save).toBeEnabled();
    const listsBefore = callsOf("secrets_list").length;
    secrets = [{ name: "aws-secret-access-key", hint: "…ETz", store: "keychain" }];
    await user.click(save);

    const status = await screen.findByTestId("credentials-aws-status");
    expect(status).toHaveAttribute("data-state", "ok");
    expect(status).toHaveTextContent(`✓${CONNECTED}`);
    expect(callsOf("aws_connect_keys")).toEqual([
      {
        cmd: "aws_connect_keys",
        args: { accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: null, region: "eu-west-1" },
      },
    ]);
    expect(screen.getByTestId("credentials-aws-secret")).toHaveValue("");
    expect(screen.getByTestId("credentials-aws-session-token")).toHaveValue("");
    await waitFor(() => expect(current).toHaveTextContent("Access key …WXYZ in eu-west-1"));
    expect(current).not.toHaveTextContent("session token");
    expect(screen.getByTestId("credentials-aws-secret")).toHaveAttribute("placeholder", "stored; type a new one to replace it");
    expect(screen.getByTestId("credentials-aws-forget")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId("secrets-table")).toHaveTextContent("aws-secret-access-key"));
    expect(callsOf("secrets_list").length).toBeGreaterThan(listsBefore);
  });

  it("shows a refusal in words, as an alert, and keeps the secret for a retry", async () => {
    const message = "The secret access key does not belong to the access key …WXYZ. Copy both again from the IAM console.";
    const user = await openSettings({
      aws_connect_keys: () => {
        throw { code: "aws_invalid_secret", message };
      },
    });
    await user.type(await screen.findByTestId("credentials-aws-key-id"), KEY_ID);
    await user.type(screen.getByTestId("credentials-aws-secret"), SECRET);
    await user.type(screen.getByTestId("credentials-aws-region"), "eu-west-1");
    await user.click(screen.getByTestId("credentials-aws-save"));

    const error = await screen.findByTestId("credentials-aws-error");
    expect(error).toHaveTextContent(message);
    expect(error).toHaveAttribute("role", "alert");
    const status = screen.getByTestId("credentials-aws-status");
    expect(status).toHaveAttribute("data-state", "failed");
    expect(status).toHaveTextContent("✕");
    expect(screen.getByTestId("credentials-aws-secret")).toHaveValue(SECRET);
    expect(screen.getByTestId("credentials-aws-current")).toHaveTextContent("Nothing stored");
    expect(callsOf("aws_settings")).toHaveLength(1);
    expect(document.body.textContent).not.toContain(SECRET);
  });

  it("connects a profile and sends no region when the field is left empty", async () => {
    const user = await openSettings();
    await user.click(await screen.findByTestId("credentials-aws-mode-profile"));
    expect(screen.queryByTestId("credentials-aws-secret")).not.toBeInTheDocument();
    expect(screen.getByText("Leave empty to use the profile's region")).toBeInTheDocument();
    const save = screen.getByTestId("credentials-aws-save");
    expect(save).toBeDisabled();
    await user.type(screen.getByTestId("credentials-aws-profile"), "ml");
    expect(screen.getByTestId("credentials-aws-profile-region")).toHaveValue("");
    await user.click(save);

    expect(await screen.findByTestId("credentials-aws-status")).toHaveTextContent(CONNECTED);
    expect(callsOf("aws_connect_profile")).toEqual([{ cmd: "aws_connect_profile", args: { profile: "ml", region: null } }]);
    expect(callsOf("aws_connect_keys")).toHaveLength(0);
    await waitFor(() => expect(screen.getByTestId("credentials-aws-current")).toHaveTextContent("Profile 'ml' (its own region)"));
    expect(screen.getByTestId("credentials-aws-mode-profile")).toBeChecked();
    expect(screen.getByTestId("credentials-aws-profile")).toHaveValue("ml");
  });

  it("describes stored keys, prefills the region, and forgets them only after a confirm", async () => {
    let aws = storedKeys({ has_session_token: true });
    const user = await openSettings({
      aws_settings: () => aws,
      aws_disconnect: () => {
        aws = awsDefaultChain();
        return null;
      },
    });
    const current = await screen.findByTestId("credentials-aws-current");
    expect(current).toHaveTextContent("Access key …WXYZ in eu-west-1 (with a session token)");
    expect(screen.getByTestId("credentials-aws-mode-keys")).toBeChecked();
    expect(screen.getByTestId("credentials-aws-region")).toHaveValue("eu-west-1");
    expect(screen.getByTestId("credentials-aws-secret")).toHaveAttribute("placeholder", "stored; type a new one to replace it");

    await user.click(screen.getByTestId("credentials-aws-forget"));
    expect(callsOf("aws_disconnect")).toHaveLength(0);
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByTestId("credentials-aws-forget-confirm")).not.toBeInTheDocument();
    expect(callsOf("aws_disconnect")).toHaveLength(0);

    await user.click(screen.getByTestId("credentials-aws-forget"));
    await user.click(screen.getByTestId("credentials-aws-forget-confirm"));
    expect(callsOf("aws_disconnect")).toEqual([{ cmd: "aws_disconnect", args: undefined }]);
    await waitFor(() => expect(current).toHaveTextContent("Nothing stored: the AWS SDK's default chain is used"));
    expect(screen.queryByTestId("credentials-aws-forget")).not.toBeInTheDocument();
    expect(screen.getByTestId("credentials-aws-region")).toHaveValue("");
    expect(screen.getByTestId("credentials-aws-secret")).toHaveAttribute("placeholder", "");
  });

  it("never shows the secret or the session token once they are saved", async () => {
    const token = "IQoJb3JpZ2luX2VjEXAMPLEsessionTOKEN";
    const user = await openSettings();
    await user.type(await screen.findByTestId("credentials-aws-key-id"), "ASIA0123456789ABWXYZ");
    await user.type(screen.getByTestId("credentials-aws-secret"), SECRET);
    await user.type(screen.getByTestId("credentials-aws-session-token"), token);
    await user.type(screen.getByTestId("credentials-aws-region"), "eu-west-1");
    await user.click(screen.getByTestId("credentials-aws-save"));

    await screen.findByTestId("credentials-aws-status");
    expect(callsOf("aws_connect_keys")[0]?.args).toMatchObject({ secretAccessKey: SECRET, sessionToken: token });
    await waitFor(() =>
      expect(screen.getByTestId("credentials-aws-current")).toHaveTextContent("Access key …WXYZ in eu-west-1 (with a session token)"),
    );
    for (const text of [SECRET, token]) {
      expect(document.body.textContent).not.toContain(text);
      expect(document.body.innerHTML).not.toContain(text);
      expect(Array.from(document.querySelectorAll("input")).map((i) => i.value)).not.toContain(text);
    }
  });

  it("verifies whatever is configured, even the default chain, and says Checking… meanwhile", async () => {
    let answer: () => void = () => {};
    const user = await openSettings({
      aws_verify: () =>
        new Promise((_, reject) => {
          answer = () => reject({ code: "aws_no_credentials", message: "No AWS credentials were found." });
        }),
    });
    await user.click(await screen.findByTestId("credentials-aws-verify"));
    expect(await screen.findByTestId("credentials-aws-checking")).toHaveTextContent("Checking…");
    expect(screen.getByTestId("credentials-aws-verify")).toBeDisabled();
    answer();
    expect(await screen.findByTestId("credentials-aws-error")).toHaveTextContent("No AWS credentials were found.");
    expect(screen.queryByTestId("credentials-aws-checking")).not.toBeInTheDocument();
    expect(callsOf("aws_verify")).toEqual([{ cmd: "aws_verify", args: undefined }]);
  });
});

describe("the AWS sentences", () => {
  it("says what is configured in each mode", () => {
    expect(awsSettingsSentence(storedKeys())).toBe("Access key …WXYZ in eu-west-1");
    expect(awsSettingsSentence({ ...awsDefaultChain(), mode: "profile", profile: "ml", region: "eu-west-1" })).toBe(
      "Profile 'ml' in eu-west-1",
    );
    expect(awsSettingsSentence({ ...awsDefaultChain(), mode: "profile", profile: "ml" })).toBe("Profile 'ml' (its own region)");
    expect(awsSettingsSentence(storedKeys({ access_key_hint: null, region: null }))).toBe("An access key (no region set)");
  });
});
