import { Link } from "@tanstack/react-router";

const ITEMS = [
  { to: "/timeline", page: "timeline", label: "Timeline" },
  { to: "/automations", page: "automations", label: "Automations" },
  { to: "/issues", page: "issues", label: "Issues" },
  { to: "/sources", page: "sources", label: "Sources" },
  { to: "/setup", page: "setup", label: "Setup" },
  { to: "/settings", page: "settings", label: "Settings" },
] as const;

/** The main navigation; an item stays current on its child routes ("/timeline/42"), and the link sets aria-current. */
export function Sidebar() {
  return (
    <nav className="sidebar" aria-label="Main" data-testid="sidebar">
      <div className="brand">Loopline</div>
      <ul>
        {ITEMS.map((item) => (
          <li key={item.page}>
            <Link to={item.to} className="nav-item" data-testid={`nav-${item.page}`}>
              {item.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
