import { describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { SetupJob, SetupReport, StorageRequest } from "./bindings.gen";
import { summary, timelineEngine } from "./test/fixtures";
import { renderApp } from "./test/render";

const engine = vi.hoisted(() => ({ current: null as ReturnType<typeof import("./test/fixtures").timelineEngine> | null }));

vi.mock("./api/ipc", () => ({
  call: (cmd: string, args?: Record<string, unknown>) => engine.current!.call(cmd, args),
  subscribe: (event: string, fn: (p: unknown) => void) => engine.current!.subscribe(event, fn),
  inTauri: () => true,
}));

const step = (key: string, title: string, status: SetupReport["steps"][number]["status"], summary: string) => ({
  key,
  title,
  resource: key === "s3.images" ? "s3://sagemaker-birds/bird-images/" : "s3://sagemaker-birds/",
  status,
  summary,
  detail: null,
  error: null,
  at: status === "planned" ? null : "2026-12-05T10:00:00.000Z",
});

describe("Setup: Storage", () => {
  it("shows the plan with its resources, creates on request with a moving progress bar, and ends green", async () => {
    const plans: StorageRequest[] = [];
    let job: SetupJob = { running: false, progress: null, report: null, error: null };
    let polls = 0;
    engine.current = timelineEngine([summary(1)], {
      setup_storage_plan: (args?: Record<string, unknown>) => {
        plans.push(args!.request as StorageRequest);
        return {
          section: "storage",
          planned: true,
          steps: [
            step("s3.bucket", "Bucket", "planned", "Create the bucket in eu-west-1, private (Block Public Access on)."),
            step("s3.images", "Images", "planned", "Upload 500 images from /data/birds (100.0 MB); 0 already there, 3 skipped (not images)."),
          ],
        };
      },
      setup_storage_start: () => {
        job = {
          running: true,
          progress: {
            files_total: 500,
            files_done: 120,
            files_uploaded: 120,
            files_present: 0,
            files_skipped: 3,
            bytes_total: 100_000_000,
            bytes_done: 24_000_000,
            bytes_per_second: 12_500_000,
            seconds_left: 6,
            current: "bird-0120.jpg",
            finished: false,
          },
          report: null,
          error: null,
        };
        return job;
      },
      setup_storage_job: () => {
        polls += 1;
        if (job.running && polls > 3) {
          job = {
            running: false,
            progress: null,
            error: null,
            report: {
              section: "storage",
              planned: false,
              steps: [
                step("s3.bucket", "Bucket", "created", "The bucket is in eu-west-1."),
                step("s3.images", "Images", "uploaded", "500 uploaded, 0 already there, 3 skipped (not images)."),
              ],
            },
          };
        }
        return job;
      },
    });
    const user = userEvent.setup();
    await renderApp("/setup");
    await user.type(await screen.findByTestId("storage-bucket"), "sagemaker-birds");
    await user.type(screen.getByTestId("storage-region"), "eu-west-1");
    await user.type(screen.getByTestId("storage-images-dir"), "/data/birds");
    expect(screen.queryByTestId("storage-create")).toBeNull();
    await user.click(screen.getByTestId("storage-plan"));

    const planned = await screen.findByTestId("storage-plan-steps");
    expect(within(planned).getByText("s3://sagemaker-birds/")).toBeInTheDocument();
    expect(planned).toHaveTextContent("Upload 500 images");
    expect(plans[0]).toMatchObject({ bucket: "sagemaker-birds", region: "eu-west-1", images_dir: "/data/birds", images_prefix: "bird-images" });

    await user.click(screen.getByTestId("storage-create"));
    expect(await screen.findByTestId("storage-progress-text")).toHaveTextContent("120 of 500 files · 24.0 of 100.0 MB · 12.5 MB/s · 6 s left");
    expect(screen.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "24");

    const result = await screen.findByTestId("storage-result-steps", {}, { timeout: 5000 });
    expect(result).toHaveTextContent("500 uploaded, 0 already there, 3 skipped (not images).");
    await waitFor(() => expect(within(result).getByTestId("step-s3.images")).toHaveAttribute("data-status", "uploaded"));
  });

  it("says why a plan cannot be made, in the engine's words", async () => {
    engine.current = timelineEngine([summary(1)], {
      setup_storage_plan: () => {
        throw { code: "aws_no_credentials", message: "No AWS credentials are configured. Enter them in Settings › Credentials." };
      },
    });
    const user = userEvent.setup();
    await renderApp("/setup");
    await user.type(await screen.findByTestId("storage-bucket"), "sagemaker-birds");
    await user.type(screen.getByTestId("storage-region"), "eu-west-1");
    await user.click(screen.getByTestId("storage-plan"));
    expect(await screen.findByTestId("storage-error")).toHaveTextContent("No AWS credentials are configured");
  });
});
