/** The export settings of src/config.ts: defaults, accepted values, and refusals that say what is accepted. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('export settings', () => {
  it('REELSTAT_EXPORT_WORKERS: 2 by default, 1–16', () => {
    assert.equal(loadConfig({}).exports.workers, 2);
    assert.equal(loadConfig({ REELSTAT_EXPORT_WORKERS: '1' }).exports.workers, 1);
    for (const bad of ['0', '17', 'two']) assert.throws(() => loadConfig({ REELSTAT_EXPORT_WORKERS: bad }), ConfigError, bad);
  });
  it('REELSTAT_EXPORT_PART_BYTES: no limit by default; bytes or a number and a unit, at least 1KiB', () => {
    assert.equal(loadConfig({}).exports.partBytes, null);
    assert.equal(loadConfig({ REELSTAT_EXPORT_PART_BYTES: '100MB' }).exports.partBytes, 100_000_000);
    assert.equal(loadConfig({ REELSTAT_EXPORT_PART_BYTES: '2GiB' }).exports.partBytes, 2 * 2 ** 30);
    assert.equal(loadConfig({ REELSTAT_EXPORT_PART_BYTES: '4096' }).exports.partBytes, 4096);
    for (const bad of ['1000', '-5MB', '10 parsecs', 'MB']) {
      assert.throws(() => loadConfig({ REELSTAT_EXPORT_PART_BYTES: bad }), (e: Error) => e instanceof ConfigError && /like 100MB or 2GiB/.test(e.message), bad);
    }
  });
});
