import type { Condition, ConditionField, ConditionOp, FieldType } from "../bindings.gen";

/** One row as typed: the value stays text until the request is built. */
export type ConditionDraft = { field: string; op: ConditionOp; value: string };

export const OPS: { op: ConditionOp; label: string; on: FieldType[] }[] = [
  { op: "eq", label: "=", on: ["bool", "int", "text"] },
  { op: "ne", label: "≠", on: ["bool", "int", "text"] },
  { op: "contains", label: "contains", on: ["text", "text_list"] },
  { op: "gt", label: ">", on: ["int"] },
  { op: "lt", label: "<", on: ["int"] },
];

/**
 * The typed condition the engine checks. The value is typed by the field's type; a field
 * that is not on the list goes as text, and the engine's refusal (with the known fields)
 * is shown beside the form.
 */
export function toCondition(d: ConditionDraft, fields: ConditionField[]): Condition {
  const ty = fields.find((f) => f.name === d.field.trim())?.type;
  const raw = d.value.trim();
  let value: Condition["value"] = raw;
  if (ty === "bool" && (raw === "true" || raw === "false")) value = raw === "true";
  if (ty === "int" && /^-?\d+$/.test(raw)) value = Number(raw);
  return { field: d.field.trim(), op: d.op, value };
}

/** A new field keeps the row valid where it can: an operator it allows, a boolean's value. */
function fitTo(fields: ConditionField[], r: ConditionDraft, name: string): Partial<ConditionDraft> {
  const ty = fields.find((f) => f.name === name.trim())?.type;
  if (!ty) return { field: name };
  const op = OPS.some((o) => o.op === r.op && o.on.includes(ty)) ? r.op : OPS.find((o) => o.on.includes(ty))!.op;
  const value = ty === "bool" && r.value !== "true" && r.value !== "false" ? "false" : r.value;
  return { field: name, op, value };
}

type Props = {
  rows: ConditionDraft[];
  fields: ConditionField[];
  onChange: (rows: ConditionDraft[]) => void;
};

/** Field / operator / value rows; all must hold. The known fields are offered, with their meaning. */
export function ConditionRows({ rows, fields, onChange }: Props) {
  const set = (i: number, patch: Partial<ConditionDraft>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <div className="condition-rows" data-testid="condition-rows">
      <datalist id="condition-fields">
        {fields.map((f) => (
          <option key={f.name} value={f.name}>
            {f.doc}
          </option>
        ))}
      </datalist>
      {rows.length === 0 && <span className="muted">None: every matching event counts.</span>}
      {rows.map((r, i) => {
        const field = fields.find((f) => f.name === r.field.trim());
        const ops = field ? OPS.filter((o) => o.on.includes(field.type)) : OPS;
        return (
          <div className="inline-field condition-row" key={i} data-testid="condition-row">
            <label className="visually-hidden" htmlFor={`cond-field-${i}`}>
              Field {i + 1}
            </label>
            <input
              id={`cond-field-${i}`}
              data-testid="condition-field"
              className="mono"
              list="condition-fields"
              placeholder="annotation.was_cancelled"
              autoComplete="off"
              spellCheck={false}
              value={r.field}
              title={field?.doc}
              onChange={(e) => set(i, fitTo(fields, r, e.target.value))}
            />
            <label className="visually-hidden" htmlFor={`cond-op-${i}`}>
              Operator {i + 1}
            </label>
            <select id={`cond-op-${i}`} data-testid="condition-op" value={r.op} onChange={(e) => set(i, { op: e.target.value as ConditionOp })}>
              {ops.map((o) => (
                <option key={o.op} value={o.op}>
                  {o.label}
                </option>
              ))}
            </select>
            <label className="visually-hidden" htmlFor={`cond-value-${i}`}>
              Value {i + 1}
            </label>
            {field?.type === "bool" ? (
              <select id={`cond-value-${i}`} data-testid="condition-value" value={r.value} onChange={(e) => set(i, { value: e.target.value })}>
                <option value="false">false</option>
                <option value="true">true</option>
              </select>
            ) : (
              <input
                id={`cond-value-${i}`}
                data-testid="condition-value"
                className="mono"
                inputMode={field?.type === "int" ? "numeric" : undefined}
                autoComplete="off"
                value={r.value}
                onChange={(e) => set(i, { value: e.target.value })}
              />
            )}
            <button type="button" aria-label={`Remove condition ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
              ×
            </button>
          </div>
        );
      })}
      <div>
        <button type="button" data-testid="condition-add" onClick={() => onChange([...rows, { field: "annotation.was_cancelled", op: "eq", value: "false" }])}>
          Add a condition
        </button>
      </div>
    </div>
  );
}
