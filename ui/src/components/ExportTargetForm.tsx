import { useState } from "react";
import type { ExportTarget } from "../bindings.gen";
import { useLabelingChoice } from "../api/setup";

type Kind = ExportTarget["kind"];

const KIND_LABEL: Record<Kind, string> = { label_studio: "Label Studio project", rest: "REST endpoint", graphql: "GraphQL endpoint" };

/** Aquarium's REST sample's body, as the engine builds it by default (shown as the placeholder). */
const DEFAULT_BODY = `{"name": "{{issue.name}}", "project": "{{issue.project}}", "issue_id": "{{issue.id}}",
 "frames": {"$each": "elements", "$item": {"id": "{{element.frame_id}}", "image_url": "{{element.image_url}}"}}}`;
const DEFAULT_VARIABLES = `{"issueId": "{{issue.id}}", "labelIds": "{{label_ids}}"}`;

const blank = (s: string) => (s.trim() === "" ? null : s);

/** Where an export goes: the target (null while incomplete) and the form that sets it. */
export function useExportTarget(): [ExportTarget | null, React.ReactNode] {
  const choice = useLabelingChoice();
  const [kind, setKind] = useState<Kind>("label_studio");
  // The project the labeling setup chose, until the user types another.
  const [typed, setProject] = useState<string | null>(null);
  const project = typed ?? (choice.data ? String(choice.data.project) : "");
  const [url, setUrl] = useState("");
  const [body, setBody] = useState("");
  const [query, setQuery] = useState("");
  const [variables, setVariables] = useState("");
  const [secret, setSecret] = useState("");

  const httpUrl = /^https?:\/\/\S+$/.test(url.trim());
  const target: ExportTarget | null =
    kind === "label_studio"
      ? /^\d+$/.test(project)
        ? { kind, project: Number(project) }
        : null
      : kind === "rest"
        ? httpUrl
          ? { kind, url: url.trim(), body_template: blank(body), auth_secret: blank(secret) }
          : null
        : httpUrl && query.trim() !== ""
          ? { kind, url: url.trim(), query, variables_template: blank(variables), auth_secret: blank(secret) }
          : null;

  const form = (
    <div className="export-target">
      <label>
        Send to{" "}
        <select value={kind} onChange={(e) => setKind(e.target.value as Kind)} data-testid="export-kind">
          {(Object.keys(KIND_LABEL) as Kind[]).map((k) => (
            <option key={k} value={k}>
              {KIND_LABEL[k]}
            </option>
          ))}
        </select>
      </label>
      {kind === "label_studio" && (
        <label>
          Project id <input value={project} onChange={(e) => setProject(e.target.value.trim())} inputMode="numeric" size={6} data-testid="export-project" />
        </label>
      )}
      {kind !== "label_studio" && (
        <>
          <label>
            URL <input value={url} onChange={(e) => setUrl(e.target.value)} size={40} placeholder="https://labeling.example.com/api/tasks" data-testid="export-url" />
          </label>
          <label>
            Auth secret <input value={secret} onChange={(e) => setSecret(e.target.value.trim())} size={18} placeholder="keychain name (optional)" data-testid="export-secret" />
          </label>
        </>
      )}
      {kind === "rest" && (
        <label className="export-template">
          Body template (empty: the default below)
          <textarea value={body} onChange={(e) => setBody(e.target.value)} rows={4} placeholder={DEFAULT_BODY} data-testid="export-body" />
        </label>
      )}
      {kind === "graphql" && (
        <>
          <label className="export-template">
            Mutation
            <textarea value={query} onChange={(e) => setQuery(e.target.value)} rows={3} placeholder="mutation Export($issueId: ID!, $labelIds: [ID!]!) { … }" data-testid="export-query" />
          </label>
          <label className="export-template">
            Variables template (empty: the default below)
            <textarea value={variables} onChange={(e) => setVariables(e.target.value)} rows={2} placeholder={DEFAULT_VARIABLES} data-testid="export-variables" />
          </label>
        </>
      )}
    </div>
  );
  return [target, form];
}
