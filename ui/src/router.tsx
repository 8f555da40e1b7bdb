import {
  createRootRoute,
  createRoute,
  createRouter,
  notFound,
  redirect,
  type RouterHistory,
} from "@tanstack/react-router";
import { App } from "./App";
import { call } from "./api/ipc";
import { IssuesPage } from "./pages/IssuesPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { AutomationsPage } from "./pages/AutomationsPage";
import { SettingsPage } from "./pages/SettingsPage";
import { SetupPage } from "./pages/SetupPage";
import { SourcesPage } from "./pages/SourcesPage";
import { TimelinePage } from "./pages/TimelinePage";

/** Nothing set up yet: no source, no Label Studio connection, no setup step ever run. */
async function isFirstRun(): Promise<boolean> {
  try {
    const [sources, url, steps] = await Promise.all([call("sources_list"), call("label_studio_url"), call("setup_status")]);
    return sources.length === 0 && !url && steps.every((s) => s.at === null);
  } catch {
    return false;
  }
}

/** An id in a path: digits only; anything else is a page that does not exist. */
function parseId(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw notFound();
  return Number(text);
}

const rootRoute = createRootRoute({ component: App, notFoundComponent: NotFoundPage });

const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/",
  // A fresh data directory opens on Setup, not on an empty timeline.
  beforeLoad: async () => {
    throw redirect({ to: (await isFirstRun()) ? "/setup" : "/timeline", replace: true });
  },
});

// The pages own their detail panes, so a child route only says which item is open: the
// page (its filters, its scroll position) stays mounted while the selection changes.
const timelineRoute = createRoute({ getParentRoute: () => rootRoute, path: "timeline", component: TimelinePage });
const timelineIndexRoute = createRoute({ getParentRoute: () => timelineRoute, path: "/" });
const eventRoute = createRoute({
  getParentRoute: () => timelineRoute,
  path: "$eventId",
  params: {
    parse: ({ eventId }) => ({ eventId: parseId(eventId) }),
    stringify: ({ eventId }) => ({ eventId: String(eventId) }),
  },
});

const automationsRoute = createRoute({ getParentRoute: () => rootRoute, path: "automations", component: AutomationsPage });
const automationsIndexRoute = createRoute({ getParentRoute: () => automationsRoute, path: "/" });
const runRoute = createRoute({
  getParentRoute: () => automationsRoute,
  path: "runs/$runId",
  params: {
    parse: ({ runId }) => ({ runId: parseId(runId) }),
    stringify: ({ runId }) => ({ runId: String(runId) }),
  },
});
const automationRoute = createRoute({ getParentRoute: () => automationsRoute, path: "$automationId" });

// The page was "Runs" before automations: its addresses (bookmarks, older links) still work.
const oldRunsRoute = createRoute({ getParentRoute: () => rootRoute, path: "runs" });
const oldRunsIndexRoute = createRoute({
  getParentRoute: () => oldRunsRoute,
  path: "/",
  beforeLoad: () => {
    throw redirect({ to: "/automations", replace: true });
  },
});
const oldRunRoute = createRoute({
  getParentRoute: () => oldRunsRoute,
  path: "$runId",
  params: {
    parse: ({ runId }) => ({ runId: parseId(runId) }),
    stringify: ({ runId }) => ({ runId: String(runId) }),
  },
  beforeLoad: ({ params }) => {
    throw redirect({ to: "/automations/runs/$runId", params: { runId: params.runId }, replace: true });
  },
});

const issuesRoute = createRoute({ getParentRoute: () => rootRoute, path: "issues", component: IssuesPage });
const issuesIndexRoute = createRoute({ getParentRoute: () => issuesRoute, path: "/" });
const issueRoute = createRoute({ getParentRoute: () => issuesRoute, path: "$issueId" });

const sourcesRoute = createRoute({ getParentRoute: () => rootRoute, path: "sources", component: SourcesPage });
const setupRoute = createRoute({ getParentRoute: () => rootRoute, path: "setup", component: SetupPage });
const settingsRoute = createRoute({ getParentRoute: () => rootRoute, path: "settings", component: SettingsPage });

const routeTree = rootRoute.addChildren([
  indexRoute,
  timelineRoute.addChildren([timelineIndexRoute, eventRoute]),
  automationsRoute.addChildren([automationsIndexRoute, runRoute, automationRoute]),
  oldRunsRoute.addChildren([oldRunsIndexRoute, oldRunRoute]),
  issuesRoute.addChildren([issuesIndexRoute, issueRoute]),
  sourcesRoute,
  setupRoute,
  settingsRoute,
]);

/**
 * The app's router over the given history: hash history in the window (the webview loads
 * index.html, and a hash route survives a reload), memory history in tests.
 */
export function createAppRouter(history: RouterHistory) {
  return createRouter({ routeTree, history });
}

export type AppRouter = ReturnType<typeof createAppRouter>;

declare module "@tanstack/react-router" {
  interface Register {
    router: AppRouter;
  }
}
