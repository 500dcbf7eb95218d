// `npm run demo` against the real server: a small run through the public API fills the catalog and
// a month of traffic that the stats API then shows — every generated player load counted, viewers
// placed in their countries and on their devices, days across the month. The CLI finds the local
// first account's token in the data directory and refuses bad options with a message.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { loadDemoEnv } from '../src/config.ts';
import { parseDemoArgs, runDemo, type DemoResult } from '../src/demo/run.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let s: TestServer;
let result: DemoResult;
const lines: string[] = [];
const DAY = 86_400_000;

async function stats(query: string): Promise<any[]> {
  const r = await fetch(`${s.url}/api/v1/stats?${query}`, { headers: { authorization: `Bearer ${s.token}` } });
  assert.equal(r.status, 200);
  return (await r.json()).data;
}

before(async () => {
  s = await startTestServer();
  // No --token: the demo reads the credentials.json the first start wrote into the data directory.
  const o = parseDemoArgs(['--url', s.url, '--sessions', '300', '--seed', '7']);
  assert.notEqual(o, 'help');
  result = await runDemo(o as Exclude<typeof o, 'help'>, loadDemoEnv({ REELSTAT_DATA_DIR: s.dataDir }), (l) => lines.push(l));
});
after(() => s.stop());

describe('npm run demo', () => {
  it('sends the catalog and the traffic, all accepted, and prints what it sent', async () => {
    assert.equal(result.rejected, 0);
    assert.equal(result.duplicates, 0);
    assert.equal(result.accepted, result.events);
    assert.ok(result.events > 300 * 3, `${result.events} events for 300 sessions`);
    assert.equal(result.days, 30);
    const videos = await (await fetch(`${s.url}/api/v1/videos?limit=100`, { headers: { authorization: `Bearer ${s.token}` } })).json();
    assert.equal(videos.meta.total, result.videos);
    assert.ok(videos.data.every((v: any) => v.title && v.duration > 0 && v.projectId && v.folder));
    const text = lines.join('\n');
    assert.match(text, new RegExp(`${result.events} events`));
    assert.match(text, new RegExp(`collector: ${result.accepted} accepted, 0 duplicates, 0 rejected`));
    assert.match(text, /stats since \d{4}-\d{2}-\d{2}: \d+ views, \d+ player loads/);
  });

  it('the stats API shows every load, views, completions, places, devices and days of the month', async () => {
    const from = new Date(Date.now() - 31 * DAY).toISOString().slice(0, 10);
    const [total] = await stats(`from=${from}&metrics=views,player_loads,unique_views,completion_rate,total_watch_time`);
    assert.equal(total.player_loads, result.loads, 'no event counted as a bot, none outside the month');
    assert.ok(total.views > 0 && total.views < total.player_loads, JSON.stringify(total));
    assert.ok(total.completion_rate > 0.05 && total.completion_rate < 0.95, JSON.stringify(total));
    const countries = await stats(`from=${from}&dimensions=country&metrics=views`);
    assert.ok(countries.length >= 8, `${countries.length} countries`);
    assert.ok(countries.every((c) => /^[A-Z]{2}$/.test(c.country)), JSON.stringify(countries));
    const platforms = new Set((await stats(`from=${from}&dimensions=platform&metrics=views`)).map((p) => p.platform));
    for (const p of ['desktop', 'smartphone']) assert.ok(platforms.has(p), [...platforms].join());
    const days = (await stats(`from=${from}&dimensions=date&metrics=player_loads`)).filter((d) => d.player_loads > 0);
    assert.ok(days.length >= 20, `traffic on ${days.length} days`);
    const projects = await stats(`from=${from}&dimensions=project_id&metrics=views`);
    assert.deepEqual(projects.map((p) => p.project_id).sort(), ['academy', 'marketing', 'support']);
  });

  it('the command line: --help, a bad option, a missing token, a wrong one', async () => {
    // Asynchronous: the child calls the server running in this process.
    const run = (args: string[], env: Record<string, string> = {}) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo/main.ts', ...args], { env: { ...process.env, ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    const help = await run(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--sessions N/);
    const bad = await run(['--sessions', 'many']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--sessions many: expected a whole number from 1 to 200000/);
    const none = await run(['--url', s.url], { REELSTAT_DATA_DIR: '/nonexistent-reelstat', REELSTAT_API_TOKEN: '' });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no API token: pass --token/);
    const wrong = await run(['--url', s.url, '--token', 'rs_wrong', '--sessions', '1']);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /refused the API token/);
  });
});
