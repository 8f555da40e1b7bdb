export type Page = "timeline" | "runs" | "sources" | "setup" | "settings";

const ITEMS: { page: Page; label: string }[] = [
  { page: "timeline", label: "Timeline" },
  { page: "runs", label: "Runs" },
  { page: "sources", label: "Sources" },
  { page: "setup", label: "Setup" },
  { page: "settings", label: "Settings" },
];

export function Sidebar({ current, onSelect }: { current: Page; onSelect: (page: Page) => void }) {
  return (
    <nav className="sidebar" aria-label="Main" data-testid="sidebar">
      <div className="brand">Loopline</div>
      <ul>
        {ITEMS.map((item) => (
          <li key={item.page}>
            <button
              type="button"
              className="nav-item"
              aria-current={current === item.page ? "page" : undefined}
              data-testid={`nav-${item.page}`}
              onClick={() => onSelect(item.page)}
            >
              {item.label}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
