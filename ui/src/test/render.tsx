import type { ReactElement } from "react";
import { render, screen } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider, createMemoryHistory } from "@tanstack/react-router";
import { createAppRouter } from "../router";

function testClient() {
  return new QueryClient({ defaultOptions: { queries: { retry: false } } });
}

/** One component with a query client around it, for tests below the level of a page. */
export function renderWithQuery(ui: ReactElement, client = testClient()) {
  return { ...render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>), client };
}

/**
 * The whole app at an address, through the same route tree as the window (memory history
 * instead of the hash): `await renderApp("/timeline/42")`. Resolves once the shell is on screen.
 */
export async function renderApp(path = "/") {
  const client = testClient();
  const history = createMemoryHistory({ initialEntries: [path] });
  const router = createAppRouter(history);
  const result = render(
    <QueryClientProvider client={client}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  await screen.findByTestId("sidebar");
  return { ...result, client, history, router, path: () => router.state.location.pathname };
}
