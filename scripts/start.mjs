// npm start: builds the dashboard when its build is missing or stale, bundles the server
// (build-server.mjs: plain JavaScript, no TypeScript loader in memory), then runs it in this same
// process (one process, so SIGTERM reaches the server's drain directly). Where build/ cannot be
// written (a read-only install), the server runs from src/ through tsx instead, as it did before.
import { pathToFileURL } from 'node:url';
import { ensureDashboard } from './build-dashboard.mjs';
import { buildServer } from './build-server.mjs';

try {
  await ensureDashboard();
} catch (err) {
  process.stderr.write(`reelstat: could not build the dashboard (web/): ${err.message}\n`);
  process.exit(1);
}
let server = null;
try {
  server = await buildServer();
} catch (err) {
  if (!['EACCES', 'EPERM', 'EROFS'].includes(err.code)) {
    process.stderr.write(`reelstat: could not build the server (src/ → build/server.mjs): ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`reelstat: cannot write build/ (${err.code}); running src/ through tsx instead (~70 MB more memory)\n`);
}
if (server) {
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(server).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
