// npm start: builds the dashboard when its build is missing or stale, bundles the server
// (build-server.mjs: plain JavaScript, no TypeScript loader in memory), then runs it in this same
// process (one process, so SIGTERM reaches the server's drain directly).
import { pathToFileURL } from 'node:url';
import { ensureDashboard } from './build-dashboard.mjs';
import { buildServer } from './build-server.mjs';

let server;
try {
  await ensureDashboard();
} catch (err) {
  process.stderr.write(`reelstat: could not build the dashboard (web/): ${err.message}\n`);
  process.exit(1);
}
try {
  server = await buildServer();
} catch (err) {
  process.stderr.write(`reelstat: could not build the server (src/ → build/server.mjs): ${err.message}\n`);
  process.exit(1);
}
process.setSourceMapsEnabled(true);
await import(pathToFileURL(server).href);
