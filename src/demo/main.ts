/** npm run demo: parses the command line, fills the server, prints what it sent. */
import { ConfigError, loadDemoEnv } from '../config.ts';
import { DemoError } from './client.ts';
import { parseDemoArgs, runDemo, USAGE } from './run.ts';

try {
  const o = parseDemoArgs(process.argv.slice(2));
  if (o === 'help') process.stdout.write(USAGE);
  else await runDemo(o, loadDemoEnv(), (line) => process.stdout.write(line + '\n'));
} catch (err) {
  if (!(err instanceof DemoError || err instanceof ConfigError)) throw err;
  process.stderr.write(`reelstat demo: ${err.message}\n`);
  process.exit(2);
}
