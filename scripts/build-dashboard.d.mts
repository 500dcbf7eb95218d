/** Types of scripts/build-dashboard.mjs for the TypeScript callers (the test helpers). */
export function sourceHash(): string;
export function ensureDashboard(opts?: { quiet?: boolean }): Promise<boolean>;
