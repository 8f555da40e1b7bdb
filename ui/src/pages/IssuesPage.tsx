import { Link, useParams } from "@tanstack/react-router";
import { EmptyState } from "../components/EmptyState";
import { IssueReview } from "../components/IssueReview";
import { useIssue, useIssues } from "../api/aquarium";

/** Aquarium issues received: the list, and the open one's elements for review and export. */
export function IssuesPage() {
  const issueId = useParams({ strict: false }).issueId ?? null;
  const issues = useIssues();
  const issue = useIssue(issueId);
  const list = issues.data ?? [];

  return (
    <section className="page issues-page" aria-labelledby="issues-title">
      <header className="page-header">
        <h1 id="issues-title">Issues</h1>
      </header>
      {issues.error && <p className="problem" role="alert">{issues.error.message}</p>}
      {issues.data?.length === 0 && (
        <EmptyState title="No Aquarium issue yet" testId="issues-empty">
          <p>
            When someone clicks “Export” on an issue in Aquarium, its elements arrive here for review. Add an Aquarium source on
            the Sources page and give Aquarium its URL (through the tunnel) as the issue-export webhook.
          </p>
        </EmptyState>
      )}
      {list.length > 0 && (
        <table className="issues-table" data-testid="issues-table">
          <thead>
            <tr><th>Issue</th><th>Project</th><th>Elements</th><th>Received</th><th>Exports</th></tr>
          </thead>
          <tbody>
            {list.map((i) => (
              <tr key={i.issue_id} aria-current={i.issue_id === issueId ? "true" : undefined}>
                <td>
                  <Link to="/issues/$issueId" params={{ issueId: i.issue_id }} data-testid="issue-link">{i.name ?? i.issue_id}</Link>
                  <div className="muted small">{i.issue_id}</div>
                </td>
                <td>{i.project ?? "—"}</td>
                <td>{i.elements}{i.skipped > 0 && <span className="muted"> (+{i.skipped} unreadable)</span>}</td>
                <td>{i.received_at.replace("T", " ").slice(0, 19)}</td>
                <td>
                  {i.exports.length === 0 ? <span className="muted">none</span> : i.exports.slice(0, 2).map((e) => (
                    <div key={e.export_id} className="small">{e.target}: {e.created} created{e.failed > 0 && `, ${e.failed} failed`}{e.pending > 0 && `, ${e.pending} to go`}</div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {issueId && issue.error && <p className="problem" role="alert">{issue.error.message}</p>}
      {issueId && issue.data && (
        <section aria-labelledby="issue-title" className="issue-open">
          <h2 id="issue-title">{issue.data.name ?? issueId} <span className="muted">({issue.data.elements.length} elements)</span></h2>
          <IssueReview issue={issue.data} issueId={issueId} />
        </section>
      )}
    </section>
  );
}
