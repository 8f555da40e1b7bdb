import { useState } from "react";
import { Sidebar, type Page } from "./components/Sidebar";
import { StatusBar } from "./components/StatusBar";
import { EngineError } from "./components/EngineError";
import { ToastProvider } from "./components/Toasts";
import { useEngineStartupError } from "./api/engine";
import { TimelinePage } from "./pages/TimelinePage";
import { SourcesPage } from "./pages/SourcesPage";
import { RunsPage } from "./pages/RunsPage";
import { SetupPage } from "./pages/SetupPage";
import { SettingsPage } from "./pages/SettingsPage";

export function App() {
  const [page, setPage] = useState<Page>("timeline");
  const startup = useEngineStartupError();
  const startupError = startup.data ?? null;

  return (
    <ToastProvider>
      <div className="app">
        <Sidebar current={page} onSelect={setPage} />
        <main className={`main main-${page}`}>
          {startupError ? (
            <EngineError error={startupError} />
          ) : (
            <>
              {page === "timeline" && <TimelinePage onNavigate={setPage} />}
              {page === "sources" && <SourcesPage />}
              {page === "runs" && <RunsPage onNavigate={setPage} />}
              {page === "setup" && <SetupPage onNavigate={setPage} />}
              {page === "settings" && <SettingsPage />}
            </>
          )}
        </main>
        <StatusBar />
      </div>
    </ToastProvider>
  );
}
