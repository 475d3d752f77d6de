// Fallback for console paths that match no screen.
import { Link } from "react-router";
import { EmptyState } from "../components/States";

export function NotFoundScreen() {
  return (
    <EmptyState title="Nothing here" testId="not-found">
      <Link to="/">Back to connections</Link>
    </EmptyState>
  );
}
