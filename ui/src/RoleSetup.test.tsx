import { describe, expect, it, vi } from "vitest";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { RoleRequest, SetupStep } from "./bindings.gen";
import { summary, timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

const ARN = "arn:aws:iam::123456789012:role/LooplineSageMakerExecution";
const TRUST = '{\n  "Statement": [{"Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]\n}';
const step = (key: string, title: string, status: SetupStep["status"], detail: string | null): SetupStep => ({
  key,
  title,
  resource: ARN,
  status,
  summary: status === "planned" ? "Create the role, which only SageMaker jobs of account 123456789012 may assume." : "Created.",
  detail,
  error: null,
  at: status === "planned" ? null : "2026-12-05T10:00:00.000Z",
});

describe("Setup: Training role", () => {
  it("shows the trust policy before creating the role, then what was created", async () => {
    const sent: RoleRequest[] = [];
    engine.current = timelineEngine([summary(1)], {
      storage_layout: { bucket: "birds-data", region: "eu-west-1", images: "bird-images", annotations: "annotations", scripts: "script", model: "model" },
      setup_role_plan: (args?: Record<string, unknown>) => {
        sent.push(args!.request as RoleRequest);
        return { section: "training", planned: true, steps: [step("iam.role", "Execution role", "planned", TRUST), step("iam.policy", "Permissions", "skipped", null)] };
      },
      setup_role: () => ({
        section: "training",
        planned: false,
        steps: [step("iam.role", "Execution role", "created", TRUST), step("iam.policy", "Permissions", "created", '{"Sid": "ThisBucketOnly"}')],
      }),
    });
    const user = userEvent.setup();
    await renderApp("/setup");
    // A bucket without "sagemaker" in its name: the scoped policy is preselected.
    expect(await screen.findByTestId("role-policy-scoped")).toBeChecked();
    expect(screen.getByTestId("role-region")).toHaveValue("eu-west-1");
    await user.click(screen.getByTestId("role-plan"));
    expect(await screen.findByTestId("role-plan-steps")).toHaveTextContent(ARN);
    expect(screen.getByTestId("role-detail-iam.role")).toHaveTextContent("sagemaker.amazonaws.com");
    expect(sent[0]).toEqual({ region: "eu-west-1", bucket: "birds-data", role: "LooplineSageMakerExecution", role_arn: null, policy: "scoped" });
    await user.click(screen.getByTestId("role-create"));
    const done = await screen.findByTestId("role-result-steps");
    expect(done.querySelectorAll('[data-status="created"]').length).toBe(2);
  });
});
