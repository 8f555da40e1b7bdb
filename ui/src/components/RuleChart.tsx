import type { RuleHistory, Run } from "../bindings.gen";
import { COUNTER_NOUN, RUN_TONE, STATUS_WORDS } from "../api/runs";
import { minMax } from "../lib/extent";
import { formatShortTime } from "../lib/format";

const W = 640;
const H = 220;
const M = { top: 18, right: 24, bottom: 26, left: 44 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;
/** Beyond this many multiples the dashed lines would be a grey wash; every k-th one is drawn. */
const MAX_THRESHOLDS = 40;
const MAX_Y_LABELS = 6;
/** A single instant still gets a readable width of time around it. */
const PAD_MS = 30 * 60 * 1000;

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function listCounts(runs: Run[]): string {
  if (runs.length === 0) return "no runs yet";
  if (runs.length > 6) return `${runs.length} runs, the latest at ${runs[runs.length - 1]!.count}`;
  const counts = runs.map((r) => String(r.count));
  const last = counts.pop()!;
  return `runs at ${counts.length > 0 ? `${counts.join(", ")} and ${last}` : last}`;
}

/** The multiples of `every` from the first one to just above the highest count. */
function thresholds(every: number, max: number): number[] {
  const n = Math.floor(max / every) + 1;
  const step = Math.ceil(n / MAX_THRESHOLDS);
  const out: number[] = [];
  for (let k = step; k <= n; k += step) out.push(k * every);
  return out;
}

/**
 * The rule's counter over time as a step line, its retrain thresholds as dashed lines, and
 * each run as a dot where it fired, coloured by its status.
 */
export function RuleChart({ history, now }: { history: RuleHistory; now: number }) {
  const { rule, points } = history;
  const every = Math.max(rule.every, 1);
  const noun = COUNTER_NOUN[rule.counter];
  const series = points
    .map((p) => ({ t: Date.parse(p.at), count: p.count }))
    .filter((p) => !Number.isNaN(p.t))
    .sort((a, b) => a.t - b.t);
  const runs = history.runs
    .map((run) => ({ run, t: Date.parse(run.created_at) }))
    .filter((r) => !Number.isNaN(r.t))
    .sort((a, b) => a.t - b.t);
  const current = rule.count ?? series[series.length - 1]?.count ?? 0;
  const label = `${capital(noun)} over time: ${current} now; ${listCounts(runs.map((r) => r.run))}`;

  const maxCount = Math.max(current, minMax([...series.map((p) => p.count), ...runs.map((r) => r.run.count)])?.[1] ?? 0, 0);
  const lines = thresholds(every, maxCount);
  const yMax = Math.max(lines[lines.length - 1] ?? every, maxCount, 1);
  const times = [...series.map((p) => p.t), ...runs.map((r) => r.t)];
  let [t0, t1] = minMax(times) ?? [now - 2 * PAD_MS, now];
  if (t0 === t1) {
    t0 -= PAD_MS;
    t1 += PAD_MS;
  }
  const x = (t: number) => M.left + ((t - t0) / (t1 - t0)) * PLOT_W;
  const y = (count: number) => M.top + PLOT_H - (count / yMax) * PLOT_H;

  let path = "";
  series.forEach((p, i) => {
    path += i === 0 ? `M${x(p.t).toFixed(1)} ${y(p.count).toFixed(1)}` : ` H${x(p.t).toFixed(1)} V${y(p.count).toFixed(1)}`;
  });
  if (series.length > 0) path += ` H${x(t1).toFixed(1)}`;

  const labelEvery = Math.ceil(lines.length / MAX_Y_LABELS);
  const yLabels = [0, ...lines.filter((_, i) => (i + 1) % labelEvery === 0)];
  const xLabels = [t0, (t0 + t1) / 2, t1];
  const today = new Date(now);

  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={label}
        data-testid="rule-chart"
        data-rule-id={rule.id}
        className="chart-svg"
        preserveAspectRatio="xMidYMid meet"
      >
        <line className="chart-axis" x1={M.left} y1={M.top} x2={M.left} y2={M.top + PLOT_H} />
        <line className="chart-axis" x1={M.left} y1={M.top + PLOT_H} x2={M.left + PLOT_W} y2={M.top + PLOT_H} />
        {yLabels.map((v) => (
          <text key={`y${v}`} className="chart-label" x={M.left - 6} y={y(v)} textAnchor="end" dominantBaseline="middle">
            {v}
          </text>
        ))}
        {xLabels.map((t, i) => (
          <text
            key={`x${i}`}
            className="chart-label"
            x={x(t)}
            y={H - 8}
            textAnchor={i === 0 ? "start" : i === xLabels.length - 1 ? "end" : "middle"}
          >
            {formatShortTime(t, today)}
          </text>
        ))}
        {lines.map((v) => (
          <line key={`th${v}`} className="chart-threshold" data-testid="chart-threshold" data-count={v} x1={M.left} x2={M.left + PLOT_W} y1={y(v)} y2={y(v)} />
        ))}
        {path && <path className="chart-line" data-testid="chart-line" d={path} />}
        {series.length === 1 && <circle className="chart-point" cx={x(series[0]!.t)} cy={y(series[0]!.count)} r={3} />}
        {runs.map(({ run, t }) => (
          <g key={run.id} className={`chart-run tone-${RUN_TONE[run.status]}`} data-testid="chart-run" data-run-id={run.id} data-status={run.status}>
            <title>{`Run ${run.id}: ${STATUS_WORDS[run.status]}, at ${run.count} ${noun}`}</title>
            <circle cx={x(t)} cy={y(run.count)} r={5} />
            <text className="chart-run-label" x={x(t)} y={y(run.count) - 9} textAnchor="middle">
              #{run.id}
            </text>
          </g>
        ))}
      </svg>
      <figcaption className="muted">
        {series.length === 0
          ? "No counts yet: the line starts with the first annotation event from Label Studio. "
          : `The line is the ${noun} count each event carried. `}
        Dashed lines mark every {every}; dots are runs, coloured by status.
      </figcaption>
    </figure>
  );
}
