import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider, createHashHistory } from "@tanstack/react-router";
import { createAppRouter } from "./router";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } },
});

const router = createAppRouter(createHashHistory());

// index.html's frame is the first paint. Rendering only once the first route is resolved (the
// index route asks the engine whether this is a first run, which waits for the engine to open)
// keeps that frame on screen until the page replaces it, instead of an empty window between.
function render(root: HTMLElement) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </StrictMode>,
  );
}

const root = document.getElementById("root");
if (root) {
  // A failed first load still renders: the router shows its error, App the engine's.
  void router.load().finally(() => render(root));
}
