// Requests and failures per bucket (from /activity) as a stacked bar chart; loaded lazily with recharts.
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ActivityBucket } from "../api/generated/ActivityBucket";

export default function ActivityChart({ buckets, range }: { buckets: ActivityBucket[]; range: "24h" | "7d" }) {
  const data = buckets.map((b) => {
    const iso = new Date(b.start).toISOString();
    return {
      label: range === "7d" ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h` : iso.slice(11, 16),
      ok: b.requests - b.failures,
      failed: b.failures,
    };
  });
  return (
    <div className="chart" data-testid="activity-chart" data-range={range} role="img" aria-label={`Requests and failures over the last ${range === "7d" ? "7 days" : "24 hours"} (UTC)`}>
      <ResponsiveContainer width="100%" height={150}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -20 }}>
          <CartesianGrid vertical={false} stroke="var(--border)" />
          <XAxis dataKey="label" tick={{ fontSize: 11, fill: "var(--muted)" }} tickLine={false} axisLine={false} minTickGap={18} />
          <YAxis allowDecimals={false} tick={{ fontSize: 11, fill: "var(--muted)" }} tickLine={false} axisLine={false} />
          <Tooltip contentStyle={{ background: "var(--surface)", border: "1px solid var(--border)", fontSize: 12 }} cursor={{ fill: "var(--hover)" }} />
          <Bar dataKey="ok" name="Succeeded" stackId="a" fill="var(--accent)" isAnimationActive={false} />
          <Bar dataKey="failed" name="Failed" stackId="a" fill="var(--danger)" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
