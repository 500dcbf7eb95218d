/** npm start: loadConfig() → startServer() → listen; SIGTERM/SIGINT drain and exit. */
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startServer } from './server.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`reelstat: configuration error: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const log = createLogger(config.logLevel);
// A background task that fails must not take the server (and the requests in flight) down with it:
// every loop catches its own errors, and this is the net under them.
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection in a background task'));
let server: Awaited<ReturnType<typeof startServer>>;
try {
  server = await startServer(config, log);
} catch (err) {
  log.error({ err }, 'start-up failed');
  process.stderr.write(`reelstat: could not start: ${(err as Error).message}\n`);
  process.exit(1);
}

// Before anything is printed: whoever waits for the lines below may signal at once.
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'draining');
    server.close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

if (server.firstAccount) {
  const a = server.firstAccount;
  process.stdout.write(
    [
      '',
      'Reelstat created the "default" account. These credentials are shown once (also saved to',
      `${config.dataDir}/credentials.json, readable only by you):`,
      `  dashboard login  ${a.users[0].email} / ${a.password}`,
      `  write key        ${a.writeKey}`,
      `  API token        ${a.apiToken}`,
      `  export UID       ${a.uid}`,
      '',
    ].join('\n') + '\n',
  );
}
log.info({ url: server.url, dataDir: config.dataDir }, 'reelstat listening');
process.stdout.write(`Reelstat is serving on ${server.url}  (API reference: ${server.url}/api/v1/docs)\n`);

