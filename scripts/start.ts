// npm start: builds the dashboard when its build is missing or stale, then runs the server in this
// same process (one process, so SIGTERM reaches the server's drain directly).
import { ensureDashboard } from './build-dashboard.mjs';

try {
  await ensureDashboard();
} catch (err) {
  process.stderr.write(`reelstat: could not build the dashboard (web/): ${(err as Error).message}\n`);
  process.exit(1);
}
await import('../src/main.ts');
