import type { Filters } from "./timelineFilters";

/**
 * Every query key in one place, so a mutation invalidates exactly what its screen reads.
 * A `.all` key is the prefix of every key in its family (all filters, all ids).
 */
export const queryKeys = {
  receiver: ["receiver-status"] as const,
  appInfo: ["app-info"] as const,
  engineStatus: ["engine-status"] as const,
  dbCheck: ["db-check"] as const,
  companionPrefs: ["companion-prefs"] as const,
  autostart: ["autostart"] as const,

  sources: ["sources"] as const,

  stats: ["timeline-stats"] as const,
  events: {
    all: ["events"] as const,
    list: (f: Filters) => ["events", f] as const,
  },
  event: {
    all: ["event"] as const,
    one: (id: number) => ["event", id] as const,
  },

  rules: ["rules"] as const,
  ruleHistory: {
    all: ["rule-history"] as const,
    one: (id: string) => ["rule-history", id] as const,
  },
  runs: ["runs"] as const,
  run: {
    all: ["run"] as const,
    one: (id: number) => ["run", id] as const,
  },

  automations: ["automations"] as const,
  automation: {
    all: ["automation"] as const,
    one: (id: string) => ["automation", id] as const,
  },
  automationFields: ["automation-fields"] as const,
  automationPreview: (request: string) => ["automation-preview", request] as const,
  datasets: {
    all: ["datasets"] as const,
    list: (automationId: string) => ["datasets", "list", automationId] as const,
    one: (version: string) => ["datasets", "one", version] as const,
    diff: (from: string, to: string) => ["datasets", "diff", from, to] as const,
  },

  models: {
    all: ["models"] as const,
    run: (runId: number) => ["models", "run", runId] as const,
  },

  labelStudioUrl: ["label-studio-url"] as const,
  secrets: ["secrets"] as const,
  awsSettings: ["aws-settings"] as const,

  tunnel: ["tunnel-status"] as const,
  deletedHookPolicy: ["deleted-hook-policy"] as const,

  setupStatus: ["setup-status"] as const,
  storageLayout: ["storage-layout"] as const,
  storageJob: ["storage-job"] as const,
  labelingChoice: ["labeling-choice"] as const,

  aquarium: {
    issues: ["aquarium-issues"] as const,
    issue: (id: string) => ["aquarium-issue", id] as const,
    exports: (id: string) => ["aquarium-exports", id] as const,
    hosts: ["image-hosts"] as const,
    thumbnail: (url: string) => ["thumbnail", url] as const,
  },
  setupStarted: ["setup-started"] as const,
  chosenPipeline: ["chosen-pipeline"] as const,
};
