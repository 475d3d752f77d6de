// Designed empty, loading (skeleton) and error-with-retry states shared by every list.
import type { ReactNode } from "react";
import { ApiError } from "../api/client";

export function EmptyState({ title, children, testId }: { title: string; children?: ReactNode; testId?: string }) {
  return (
    <div className="state empty" data-testid={testId ?? "empty-state"}>
      <div className="state-icon" aria-hidden="true">∅</div>
      <h3>{title}</h3>
      {children ? <div className="state-body">{children}</div> : null}
    </div>
  );
}

export function ErrorState({ error, onRetry, what }: { error: Error; onRetry?: () => void; what: string }) {
  const detail = error instanceof ApiError && error.code !== "network" ? `${error.message} (${error.code})` : error.message;
  return (
    <div className="state error" role="alert" data-testid="error-state">
      <div className="state-icon" aria-hidden="true">!</div>
      <h3>Could not load {what}</h3>
      <p className="muted">{detail}</p>
      {onRetry ? (
        <button type="button" className="btn" onClick={onRetry} data-testid="retry">
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function Skeleton({ rows = 6, cols = 5 }: { rows?: number; cols?: number }) {
  return (
    <div className="skeleton" aria-busy="true" aria-label="Loading" data-testid="loading">
      {Array.from({ length: rows }, (_, r) => (
        <div className="skeleton-row" key={r}>
          {Array.from({ length: cols }, (_, c) => (
            <span className="skeleton-bar" key={c} style={{ width: `${40 + ((r * 7 + c * 13) % 50)}%` }} />
          ))}
        </div>
      ))}
    </div>
  );
}
