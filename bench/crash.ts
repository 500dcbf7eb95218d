/** R1: the crash drill with 20 kills. */
import { crashDrill } from '../test/helpers/crash.ts';
import { saveResult } from './lib.ts';

export async function run() {
  const r = await crashDrill({ kills: 20, seed: Date.now() % 100000 });
  const out = { ...r, restartMsMax: Math.max(...r.restartMs), restartMsMedian: [...r.restartMs].sort((a, b) => a - b)[10] };
  console.log(JSON.stringify(out, null, 2));
  console.log('saved', saveResult('crash', out));
  if (r.lostAcknowledged || r.duplicates) process.exitCode = 1;
  return out;
}
