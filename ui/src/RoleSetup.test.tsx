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
const SCOPED = JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "ThisBucketOnly", Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::birds-data/*"] }, { Sid: "PassThisRole", Effect: "Allow", Action: "iam:PassRole", Resource: "arn:aws:iam::123456789012:role/LooplineSageMakerExecution" }] }, null, 2);
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
        return { section: "training", planned: true, steps: [step("iam.role", "Execution role", "planned", TRUST), step("iam.policy", "Permissions", "planned", SCOPED)] };
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
    // The permissions are shown in full before the role exists (issue 23.6).
    expect(screen.getByTestId("role-detail-iam.policy")).toHaveTextContent("iam:PassRole");
    expect(screen.getByTestId("role-detail-iam.policy")).toHaveTextContent("arn:aws:s3:::birds-data/*");
    expect(sent[0]).toEqual({
      region: "eu-west-1",
      bucket: "birds-data",
      role: "LooplineSageMakerExecution",
      role_arn: null,
      policy: "scoped",
      pipeline: "loopline-segmentation",
      labels: ["Beak", "Head", "Wing", "Body"],
      training_instance: "ml.p3.2xlarge",
      use_existing_pipeline: false,
    });
    await user.click(screen.getByTestId("role-create"));
    const done = await screen.findByTestId("role-result-steps");
    expect(done.querySelectorAll('[data-status="created"]').length).toBe(2);
  });

  it("draws the planned pipeline's three steps from its definition, and can use an existing pipeline instead", async () => {
    const sent: RoleRequest[] = [];
    const definition = JSON.stringify({
      Version: "2020-12-01",
      Parameters: [
        { Name: "ProcessingInstanceType", Type: "String", DefaultValue: "ml.m5.xlarge" },
        { Name: "TrainingInstanceType", Type: "String", DefaultValue: "ml.g4dn.xlarge" },
      ],
      Steps: [
        {
          Name: "Preprocess",
          Type: "Processing",
          Arguments: {
            AppSpecification: { ImageUri: "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3" },
            ProcessingResources: { ClusterConfig: { InstanceType: { Get: "Parameters.ProcessingInstanceType" } } },
          },
        },
        {
          Name: "Train",
          Type: "Training",
          Arguments: {
            AlgorithmSpecification: { TrainingImage: "685385470294.dkr.ecr.eu-west-1.amazonaws.com/semantic-segmentation:1" },
            ResourceConfig: { InstanceType: { Get: "Parameters.TrainingInstanceType" } },
            InputDataConfig: [{ DataSource: { S3DataSource: { S3Uri: { Get: "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri" } } } }],
          },
        },
        { Name: "Cleanup", Type: "Processing", DependsOn: ["Train"], Arguments: {} },
      ],
    });
    engine.current = timelineEngine([summary(1)], {
      storage_layout: { bucket: "sagemaker-birds", region: "eu-west-1", images: "bird-images", annotations: "annotations", scripts: "script", model: "model" },
      setup_role_plan: (args?: Record<string, unknown>) => {
        sent.push(args!.request as RoleRequest);
        return {
          section: "training",
          planned: true,
          steps: [step("iam.role", "Execution role", "planned", TRUST), { ...step("sm.pipeline", "Pipeline", "planned", definition), summary: "Create the pipeline." }],
        };
      },
    });
    const user = userEvent.setup();
    await renderApp("/setup");
    const labels = await screen.findByTestId("pipeline-labels");
    await user.clear(labels);
    await user.type(labels, "Beak, Wing");
    const instance = screen.getByTestId("pipeline-instance");
    await user.clear(instance);
    await user.type(instance, "ml.g4dn.xlarge");
    await user.click(screen.getByTestId("role-plan"));
    const graph = await screen.findByTestId("pipeline-graph");
    expect(graph.querySelectorAll("li").length).toBe(3);
    expect(screen.getByTestId("pipeline-node-Train")).toHaveTextContent("semantic-segmentation:1");
    expect(screen.getByTestId("pipeline-node-Train")).toHaveTextContent("ml.g4dn.xlarge (parameter TrainingInstanceType)");
    expect(screen.getByTestId("pipeline-node-Train")).toHaveTextContent("after Preprocess");
    expect(screen.getByTestId("pipeline-node-Cleanup")).toHaveTextContent("after Train");
    expect(sent[0]).toMatchObject({ labels: ["Beak", "Wing"], training_instance: "ml.g4dn.xlarge", use_existing_pipeline: false });

    await user.click(screen.getByTestId("pipeline-mode-existing"));
    await user.click(screen.getByTestId("role-plan"));
    expect(sent[1]).toMatchObject({ pipeline: "loopline-segmentation", labels: [], training_instance: null, use_existing_pipeline: true });
  });
});
