/** A table of name/value pairs in code type: an event's headers, a run's parameters. */
export function NameValueTable({ rows, testId }: { rows: { name: string; value: string }[]; testId: string }) {
  return (
    <table className="headers" data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={`${r.name}-${i}`}>
            <td>
              <code>{r.name}</code>
            </td>
            <td>
              <code>{r.value}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
