// Relative timestamp ("3 min ago") with the exact UTC time in the title attribute.
import { exactUtc, relativeTime } from "../lib/format";
import { useNow } from "../lib/hooks";

export function Time({ value, empty = "never", testId }: { value: string | null | undefined; empty?: string; testId?: string }) {
  const now = useNow();
  if (!value) return <span className="muted" data-testid={testId}>{empty}</span>;
  return (
    <time dateTime={value} title={exactUtc(value)} data-testid={testId}>
      {relativeTime(value, now)}
    </time>
  );
}
