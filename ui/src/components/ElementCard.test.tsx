import { describe, expect, it, vi } from "vitest";
import { screen } from "@testing-library/react";
import type { IssueElement } from "../bindings.gen";
import { renderWithQuery } from "../test/render";
import { ElementCard } from "./ElementCard";

vi.mock("../api/ipc", () => ({
  call: () => Promise.resolve(null),
  subscribe: () => () => {},
  inTauri: () => true,
}));

// A segmentation outline exported point by point: far past the ~10⁵ arguments that
// `Math.min(...xs)` can take before the engine throws RangeError.
const points = 200_000;
const outline: [number, number][] = Array.from({ length: points }, (_, i) => {
  const a = (i / points) * 2 * Math.PI;
  return [500 + 300 * Math.cos(a), 400 + 200 * Math.sin(a)];
});

const crop: IssueElement = {
  element_id: "poly-1",
  element_type: "crop",
  frame_id: "f1",
  dataset: "birds",
  inference_set: null,
  image_url: "https://images.example.org/f1.jpg",
  preview_url: null,
  width: null,
  height: null,
  sensor_id: "cam0",
  labels: [
    { uuid: "poly-1", label_type: "POLYGON_LIST_2D", class: "Wing", confidence: null, inference: false, geometry: { kind: "polygons", polygons: [outline] }, coordinate_frame: "cam0" },
  ],
  crop_label: "poly-1",
  user_metadata: {},
};

describe("ElementCard", () => {
  it("draws a crop whose polygon has 200 000 points, zoomed on its extent", () => {
    renderWithQuery(<ElementCard element={crop} selected={false} onToggle={() => {}} allowed={false} />);
    const card = screen.getByTestId("element-card");
    const box = card.querySelector("svg")?.getAttribute("viewBox")?.split(" ").map(Number);
    expect(box).toBeDefined();
    // The outline spans x 200..800 and y 200..600; the crop's margin is a quarter of the longer side + 8.
    const [x, y, w, h] = box!;
    expect(x).toBeCloseTo(200 - 158, 0);
    expect(y).toBeCloseTo(200 - 158, 0);
    expect(w).toBeCloseTo(600 + 316, 0);
    expect(h).toBeCloseTo(400 + 316, 0);
  });
});
