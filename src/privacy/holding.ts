/**
 * Which stored export runs hold a viewer's rows, decided from each run's job spec and period against
 * where the viewer's data is (ViewerFootprint). It errs on the side of "holds": a run whose period
 * covers an hour with the viewer's events or records (of the sessions scope: or the start of one of
 * their sessions, whose row sums its later records) and whose filters do not exclude them.
 */
import type { RunWithSpec, ViewerFootprint } from '../storage/types.ts';

const HOUR = 3_600_000;

export function holdsViewer(r: RunWithSpec, fp: ViewerFootprint, userId: string): boolean {
  const spec = r.spec as { viewer?: string; scope?: string; filters?: Record<string, string | undefined> };
  if (spec.viewer !== undefined) return spec.viewer === userId;
  // One row a catalog entry with its metrics: no viewer's rows.
  if (spec.scope === 'videos') return false;
  const f = spec.filters ?? {};
  if (f.userId !== undefined && f.userId !== userId) return false;
  if (f.sessionId !== undefined && !fp.sessions.includes(f.sessionId)) return false;
  // A content the viewer never played (an export of one video, say) holds none of their rows.
  if (f.contentId !== undefined && fp.contentIds !== null && !fp.contentIds.includes(f.contentId)) return false;
  const hours = spec.scope === 'sessions' ? [...fp.hours, ...fp.sessionHours] : fp.hours;
  return hours.some((h) => h * HOUR < r.run.periodTo && (h + 1) * HOUR > r.run.periodFrom);
}

/** The same spec with every mention of the viewer replaced (a scrubbed job keeps its shape, not the id). */
export function scrubSpec(spec: Record<string, unknown>, userId: string, replacement: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...spec };
  if (out.viewer === userId) out.viewer = replacement;
  const f = out.filters as Record<string, unknown> | undefined;
  if (f && f.userId === userId) out.filters = { ...f, userId: replacement };
  return out;
}
