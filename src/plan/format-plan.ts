import type { RunReport, TableReport } from "../reporting/report.js";
import type { RowSample, Shown } from "./planned-table.js";

const show = (v: Shown) => (v === null ? "NULL" : JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}…` : v));
const keyText = (s: RowSample) =>
  s.key
    ? Object.entries(s.key)
        .map(([k, v]) => `${k}=${v ?? "NULL"}`)
        .join(",")
    : "row";

function sampleLines(t: TableReport): string[] {
  const p = t.planned;
  if (!p) return [];
  const lines: string[] = [];
  for (const s of p.samples.updated)
    lines.push(
      `    ~ ${keyText(s)}: ${Object.entries(s.changes ?? {})
        .map(([c, x]) => `${c} ${show(x.old)} → ${show(x.new)}`)
        .join(", ")}`,
    );
  const values = (s: RowSample) =>
    Object.entries(s.values ?? {})
      .slice(0, 6)
      .map(([c, v]) => `${c}=${show(v)}`)
      .join(" ");
  for (const s of p.samples.inserted) lines.push(`    + ${s.key ? `${keyText(s)}: ` : ""}${values(s)}`);
  for (const s of p.samples.deleted) lines.push(`    - ${s.key ? `${keyText(s)}: ` : ""}${values(s)}`);
  return lines.length ? [`  ${t.table}:`, ...lines] : [];
}

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

/** A plan for the terminal: per table its changes, examples, the checks, the final phase's lock, and the command that deploys exactly this plan. */
export function formatPlan(r: RunReport): string {
  const lines = [
    `atomic-etl plan ${r.release} → ${r.environment}: DEPLOYABLE in ${seconds(r.durationMs)}; nothing was written (run ${r.runId})`,
  ];
  const w = Math.max(5, ...r.tables.map((t) => t.table.length));
  const cols = ["strategy", "matched by", "now", "after", "insert", "update", "delete", "same"];
  lines.push(
    `  ${"table".padEnd(w)}  ${cols[0]?.padEnd(15)}  ${cols[1]?.padEnd(11)}  ${cols
      .slice(2)
      .map((c) => c.padStart(8))
      .join("  ")}`,
  );
  for (const t of r.tables) {
    const p = t.planned;
    if (!p) continue;
    const n = [p.rowsNow, p.rowsAfter, p.changes.inserted, p.changes.updated, p.changes.deleted, p.changes.unchanged];
    lines.push(
      `  ${t.table.padEnd(w)}  ${p.strategy.padEnd(15)}  ${p.matchedBy.kind.padEnd(11)}  ${n.map((x) => String(x).padStart(8)).join("  ")}`,
    );
  }
  const dups = r.tables.filter((t) => (t.planned?.duplicatesInSource ?? 0) > 0);
  for (const t of dups)
    lines.push(`  ${t.table}: ${t.planned?.duplicatesInSource} duplicate record(s) in the source, dropped by the merge (latest wins)`);
  lines.push(...r.tables.flatMap(sampleLines));
  lines.push(`  validation: passed; checks: ${r.checks.length ? r.checks.map((c) => `${c.name} ✓`).join(", ") : "none configured"}`);
  for (const f of r.plan?.finalPhase ?? [])
    lines.push(
      `  final phase (${f.strategy}): ${f.mode} on ${f.tables.join(", ")}; ${f.blocks}; about ${seconds(f.estimatedMs)} (${f.basis})`,
    );
  for (const note of r.plan?.notes ?? []) lines.push(`  note: ${note}`);
  const last = r.plan?.lastDeployed;
  if (last)
    lines.push(
      `  last deployed here: run ${last.runId} at ${last.finishedAt ?? "?"}, ${last.sameContent ? "the same release content" : `content ${last.contentHash?.slice(0, 12) ?? "?"}`}`,
    );
  lines.push(`  plan hash: ${r.planHash}`);
  lines.push(`  deploy exactly this plan: atomic-etl import ${r.release} --env ${r.environment} --expect-plan ${r.planHash}`);
  return lines.join("\n");
}
