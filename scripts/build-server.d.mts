/** Types of scripts/build-server.mjs for the TypeScript callers (tests, bench). */
export const ROOT: string;
export const SERVER: string;
export function bundle(entry: string, outfile: string, firstLine?: string): Promise<string>;
export const SOURCE_DIRS: string[];
export function serverSourceHash(): string;
export function buildServer(): Promise<string>;
