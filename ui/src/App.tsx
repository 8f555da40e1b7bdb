import { Outlet, useRouterState } from "@tanstack/react-router";
import { Sidebar } from "./components/Sidebar";
import { StatusBar } from "./components/StatusBar";
import { EngineError } from "./components/EngineError";
import { DbRecovery } from "./components/DbRecovery";
import { ToastProvider } from "./components/Toasts";
import { useEngineStartupError } from "./api/engine";

/** The shell around every route: the sidebar, the open page, the status bar. */
export function App() {
  const startup = useEngineStartupError();
  const startupError = startup.data ?? null;
  // "/timeline/42" → "timeline": pages style their own scrolling (main-timeline keeps the list's).
  const page = useRouterState({ select: (s) => s.location.pathname.split("/")[1] || "timeline" });

  return (
    <ToastProvider>
      <div className="app">
        <Sidebar />
        <main className={`main main-${page}`}>
          {startupError?.code === "db_corrupt" ? (
            <DbRecovery error={startupError} />
          ) : startupError ? (
            <EngineError error={startupError} />
          ) : (
            <Outlet />
          )}
        </main>
        <StatusBar />
      </div>
    </ToastProvider>
  );
}
