// Small requests/failures bar chart (recharts) over the recent provisioning-log rows; loaded lazily.
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { LogRow } from "../api/generated/LogRow";

const STEPS = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 6 * 3_600_000, 86_400_000];

type Bucket = { label: string; ok: number; failed: number };

/** Buckets log rows into at most ~24 columns, choosing the step from the span the rows cover. */
function bucketize(rows: LogRow[], now: number): Bucket[] {
  const times = rows.map((r) => new Date(r.at).getTime()).filter((t) => !Number.isNaN(t));
  if (times.length === 0) return [];
  const oldest = Math.min(...times);
  const span = Math.max(now - oldest, 20 * 60_000);
  const step = STEPS.find((s) => span / s <= 24) ?? 86_400_000;
  const count = Math.min(24, Math.ceil(span / step) + 1);
  const end = Math.ceil(now / step) * step;
  const start = end - count * step;
  const buckets: Bucket[] = Array.from({ length: count }, (_, i) => {
    const d = new Date(start + i * step);
    const label = step >= 86_400_000 ? d.toISOString().slice(5, 10) : d.toISOString().slice(11, 16);
    return { label, ok: 0, failed: 0 };
  });
  for (const r of rows) {
    const t = new Date(r.at).getTime();
    const b = buckets[Math.floor((t - start) / step)];
    if (!b) continue;
    if (r.status >= 400) b.failed++;
    else b.ok++;
  }
  return buckets;
}

export default function RequestsChart({ rows, now }: { rows: LogRow[]; now: number }) {
  const data = bucketize(rows, now);
  if (data.length === 0) return <p className="muted chart-empty">No requests yet.</p>;
  return (
    <div className="chart" data-testid="requests-chart" role="img" aria-label="Requests and failures over time (UTC)">
      <ResponsiveContainer width="100%" height={140}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -20 }}>
          <CartesianGrid vertical={false} stroke="var(--border)" />
          <XAxis dataKey="label" tick={{ fontSize: 11, fill: "var(--muted)" }} tickLine={false} axisLine={false} />
          <YAxis allowDecimals={false} tick={{ fontSize: 11, fill: "var(--muted)" }} tickLine={false} axisLine={false} />
          <Tooltip contentStyle={{ background: "var(--surface)", border: "1px solid var(--border)", fontSize: 12 }} cursor={{ fill: "var(--hover)" }} />
          <Bar dataKey="ok" name="Succeeded" stackId="a" fill="var(--accent)" isAnimationActive={false} />
          <Bar dataKey="failed" name="Failed" stackId="a" fill="var(--danger)" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
