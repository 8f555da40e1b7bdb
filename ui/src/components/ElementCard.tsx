import type { IssueElement, IssueLabel } from "../bindings.gen";
import { useThumbnail } from "../api/aquarium";
import { minMax } from "../lib/extent";

/** The pixel box a label covers, for crop zoom and for drawing without a known image size. */
function extent(l: IssueLabel): [number, number, number, number] | null {
  const g = l.geometry;
  if (g.kind === "box") return [g.left, g.top, g.left + g.width, g.top + g.height];
  const pts: [number, number][] =
    g.kind === "polygons"
      ? g.polygons.flat()
      : g.kind === "keypoints"
        ? g.points.map((p): [number, number] => [p.x, p.y])
        : g.kind === "line"
          ? [
              [g.x1, g.y1],
              [g.x2, g.y2],
            ]
          : [];
  const xs = minMax(pts.map((p) => p[0]));
  const ys = minMax(pts.map((p) => p[1]));
  return xs && ys ? [xs[0], ys[0], xs[1], ys[1]] : null;
}

function Shape({ l }: { l: IssueLabel }) {
  const g = l.geometry;
  const cls = l.inference ? "label-shape inference" : "label-shape truth";
  const title = `${l.class}${l.confidence !== null ? ` ${(l.confidence * 100).toFixed(0)} %` : ""} (${l.inference ? "inference" : "ground truth"})`;
  const tag = <title>{title}</title>;
  if (g.kind === "box") return <rect className={cls} x={g.left} y={g.top} width={g.width} height={g.height} data-testid="label-box">{tag}</rect>;
  if (g.kind === "polygons")
    return <g className={cls}>{g.polygons.map((p, i) => <polygon key={i} points={p.map(([x, y]) => `${x},${y}`).join(" ")}>{tag}</polygon>)}</g>;
  if (g.kind === "keypoints") return <g className={cls}>{g.points.map((p, i) => <circle key={i} cx={p.x} cy={p.y} r={4} vectorEffect="non-scaling-stroke">{tag}</circle>)}</g>;
  if (g.kind === "line") return <line className={cls} x1={g.x1} y1={g.y1} x2={g.x2} y2={g.y2}>{tag}</line>;
  return null;
}

/** The view box: the crop's own label with a margin, or the whole image (its size, or the labels' extent). */
function viewBox(e: IssueElement): [number, number, number, number] {
  const own = e.element_type === "crop" ? e.labels.find((l) => l.uuid === (e.crop_label ?? e.element_id)) : undefined;
  const ext = own && extent(own);
  if (ext) {
    const [x0, y0, x1, y1] = ext;
    const m = Math.max(x1 - x0, y1 - y0) * 0.25 + 8;
    return [x0 - m, y0 - m, x1 - x0 + 2 * m, y1 - y0 + 2 * m];
  }
  if (e.width && e.height) return [0, 0, e.width, e.height];
  const all = e.labels.map(extent).filter((x): x is [number, number, number, number] => x !== null);
  const w = Math.max(100, minMax(all.map((x) => x[2]))?.[1] ?? 0);
  const h = Math.max(100, minMax(all.map((x) => x[3]))?.[1] ?? 0);
  return [0, 0, w * 1.05, h * 1.05];
}

export function ElementCard({
  element,
  selected,
  onToggle,
  allowed,
  result,
}: {
  element: IssueElement;
  selected: boolean;
  onToggle: () => void;
  allowed: boolean;
  result?: string;
}) {
  const url = element.preview_url ?? element.image_url;
  const thumb = useThumbnail(url, allowed);
  const [vx, vy, vw, vh] = viewBox(element);
  const w = element.width ?? vw;
  const h = element.height ?? vh;
  const meta = [
    element.dataset && `dataset ${element.dataset}`,
    element.inference_set && `inference set ${element.inference_set}`,
    element.frame_id && `frame ${element.frame_id}`,
    ...Object.entries(element.user_metadata).map(([k, v]) => `${k}: ${v}`),
  ].filter(Boolean);
  return (
    <article className={`element-card${selected ? " selected" : ""}`} data-testid="element-card" data-element={element.element_id} title={meta.join("\n")}>
      <label className="element-head">
        <input type="checkbox" checked={selected} onChange={onToggle} aria-label={`Send ${element.element_id}`} data-testid="element-select" />
        <span className="element-id">{element.element_id}</span>
        <span className="muted">{element.element_type}</span>
      </label>
      <svg className="element-view" viewBox={`${vx} ${vy} ${vw} ${vh}`} preserveAspectRatio="xMidYMid meet" role="img" aria-label={`${element.element_id} with ${element.labels.length} labels`}>
        <rect x={0} y={0} width={w} height={h} className="element-canvas" />
        {thumb.data && <image href={thumb.data} x={0} y={0} width={w} height={h} preserveAspectRatio="none" />}
        {element.labels.map((l) => <Shape key={l.uuid} l={l} />)}
      </svg>
      <ul className="element-labels">
        {element.labels.map((l) => (
          <li key={l.uuid} className={l.inference ? "inference" : "truth"}>
            {l.class} {l.confidence !== null ? `${(l.confidence * 100).toFixed(0)} %` : l.inference ? "inference" : "truth"}
          </li>
        ))}
      </ul>
      {thumb.error && <p className="muted small">{thumb.error.message}</p>}
      {result && <p className="element-result small" data-testid="element-result">{result}</p>}
    </article>
  );
}
