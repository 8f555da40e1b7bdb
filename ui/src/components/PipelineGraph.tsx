/** The pipeline a definition describes, drawn as its steps in order with what each runs on:
 * the plan shows this before anything is created. Reads the definition document itself, so
 * what is drawn is what SageMaker receives. */

type Json = unknown;

type Node = { name: string; kind: string; image: string; instance: string; after: string[] };

const obj = (v: Json): Record<string, Json> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, Json>) : {});

/** `Steps.X.…` references in a step's arguments: the steps it reads from. */
function references(v: Json, out: Set<string>) {
  if (typeof v === "string") {
    const m = /^Steps\.([^.]+)\./.exec(v);
    if (m?.[1]) out.add(m[1]);
  } else if (Array.isArray(v)) {
    v.forEach((x) => references(x, out));
  } else if (v && typeof v === "object") {
    Object.values(v).forEach((x) => references(x, out));
  }
}

function parameterText(v: Json, defaults: Map<string, string>): string {
  if (typeof v === "string") return v;
  const get = obj(v)["Get"];
  if (typeof get === "string" && get.startsWith("Parameters.")) {
    const name = get.slice("Parameters.".length);
    return `${defaults.get(name) ?? "?"} (parameter ${name})`;
  }
  return "—";
}

export function parsePipeline(definition: string): Node[] | null {
  let doc: Record<string, Json>;
  try {
    doc = obj(JSON.parse(definition));
  } catch {
    return null;
  }
  const steps = doc["Steps"];
  if (!Array.isArray(steps)) return null;
  const defaults = new Map<string, string>();
  for (const p of Array.isArray(doc["Parameters"]) ? doc["Parameters"] : []) {
    const o = obj(p);
    if (typeof o["Name"] === "string") defaults.set(o["Name"], String(o["DefaultValue"] ?? "no default"));
  }
  return steps.map((raw) => {
    const s = obj(raw);
    const args = obj(s["Arguments"]);
    const image = String(obj(args["AppSpecification"])["ImageUri"] ?? obj(args["AlgorithmSpecification"])["TrainingImage"] ?? "");
    const instance = parameterText(
      obj(obj(args["ProcessingResources"])["ClusterConfig"])["InstanceType"] ?? obj(args["ResourceConfig"])["InstanceType"],
      defaults,
    );
    const after = new Set<string>(Array.isArray(s["DependsOn"]) ? (s["DependsOn"] as string[]) : []);
    references(args, after);
    return {
      name: String(s["Name"] ?? "?"),
      kind: String(s["Type"] ?? "?"),
      // The repository and tag say which image; the registry account is the region's.
      image: image.split("/").slice(1).join("/") || "—",
      instance,
      after: [...after],
    };
  });
}

export function PipelineGraph({ definition }: { definition: string }) {
  const nodes = parsePipeline(definition);
  if (!nodes) return null;
  return (
    <ol className="pipeline-graph" data-testid="pipeline-graph" aria-label="Pipeline steps">
      {nodes.map((n, i) => (
        <li key={n.name} className="pipeline-node" data-testid={`pipeline-node-${n.name}`}>
          {i > 0 && (
            <span className="pipeline-arrow" aria-hidden="true">
              →
            </span>
          )}
          <div className="pipeline-box">
            <strong>{n.name}</strong> <span className="muted">{n.kind}</span>
            <div>
              <code>{n.image}</code>
            </div>
            <div className="muted">on {n.instance}</div>
            {n.after.length > 0 && <div className="muted">after {n.after.join(", ")}</div>}
          </div>
        </li>
      ))}
    </ol>
  );
}
