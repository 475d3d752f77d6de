// Requests per bucket (from /activity) as bars, failures as a line on their own axis so a handful stays visible next to thousands; loaded lazily with recharts.
import { Bar, CartesianGrid, ComposedChart, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ActivityBucket } from "../api/generated/ActivityBucket";
import { compactCount, formatCount } from "../lib/format";

const TICK = { fontSize: 11, fill: "var(--muted)" };
/** Room for the longest compact label ("999k") at 11 px, plus the gap to the plot. */
const axisWidth = (max: number) => 10 + 7 * compactCount(max).length;

export default function ActivityChart({ buckets, range }: { buckets: ActivityBucket[]; range: "24h" | "7d" }) {
  const data = buckets.map((b) => {
    const iso = new Date(b.start).toISOString();
    return {
      label: range === "7d" ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h` : iso.slice(11, 16),
      requests: b.requests,
      failed: b.failures,
    };
  });
  const maxRequests = Math.max(0, ...data.map((d) => d.requests));
  const maxFailed = Math.max(0, ...data.map((d) => d.failed));
  return (
    <div className="chart" data-testid="activity-chart" data-range={range} role="img" aria-label={`Requests and failures over the last ${range === "7d" ? "7 days" : "24 hours"} (UTC)`}>
      <ResponsiveContainer width="100%" height={150}>
        <ComposedChart data={data} margin={{ top: 8, right: 0, bottom: 0, left: 0 }}>
          <CartesianGrid vertical={false} stroke="var(--border)" />
          <XAxis dataKey="label" tick={TICK} tickLine={false} axisLine={false} minTickGap={18} />
          <YAxis yAxisId="requests" allowDecimals={false} tick={TICK} tickLine={false} axisLine={false} width={axisWidth(maxRequests)} tickFormatter={compactCount} />
          {/* Failures on their own scale: 3 failures next to 12,000 requests would otherwise be a zero-height sliver. */}
          <YAxis
            yAxisId="failed"
            orientation="right"
            allowDecimals={false}
            domain={[0, Math.max(1, maxFailed)]}
            tick={{ ...TICK, fill: "var(--danger)" }}
            tickLine={false}
            axisLine={false}
            width={axisWidth(maxFailed)}
            tickFormatter={compactCount}
          />
          <Tooltip
            contentStyle={{ background: "var(--surface)", border: "1px solid var(--border)", fontSize: 12 }}
            cursor={{ fill: "var(--hover)" }}
            formatter={(v) => (typeof v === "number" ? formatCount(v) : v)}
          />
          <Bar yAxisId="requests" dataKey="requests" name="Requests" fill="var(--accent)" isAnimationActive={false} />
          <Line
            yAxisId="failed"
            dataKey="failed"
            name="Failed"
            type="linear"
            stroke="var(--danger)"
            strokeWidth={2}
            dot={{ r: 2, fill: "var(--danger)", stroke: "var(--danger)" }}
            isAnimationActive={false}
          />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}
