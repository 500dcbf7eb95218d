import { DuckDBTimestampValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import type { DeviceType, EventName, Platform, StoredEvent } from '../../events/types.ts';
import type { CatalogFill, EventRepo } from '../types.ts';
import type { Db, Row } from './db.ts';

type Kind = 'str' | 'num' | 'bool' | 'ts' | 'big';
/** The events table's columns in table order, and where each value comes from. */
const COLUMNS: Array<[string, Kind, (e: StoredEvent) => unknown]> = [
  ['seq', 'big', (e) => e.seq],
  ['account_id', 'str', (e) => e.accountId],
  ['id', 'str', (e) => e.id],
  ['fp', 'big', (e) => e.fp],
  ['event', 'str', (e) => e.event],
  ['ts', 'ts', (e) => e.timestamp],
  ['received_at', 'ts', (e) => e.receivedAt],
  ['content_id', 'str', (e) => e.contentId],
  ['session_id', 'str', (e) => e.sessionId],
  ['user_id', 'str', (e) => e.userId],
  ['email', 'str', (e) => e.email],
  ['viewer_account_id', 'str', (e) => e.viewerAccountId],
  ['viewer_name', 'str', (e) => e.viewerName],
  ['device_type', 'str', (e) => e.deviceType],
  ['playhead', 'num', (e) => e.currentTime],
  ['url', 'str', (e) => e.url],
  ['referrer', 'str', (e) => e.referrer],
  ['domain', 'str', (e) => e.domain],
  ['title', 'str', (e) => e.title],
  ['duration', 'num', (e) => e.duration],
  ['data', 'str', (e) => (e.data === null ? null : JSON.stringify(e.data))],
  ['ip', 'str', (e) => e.ip],
  ['user_agent', 'str', (e) => e.userAgent],
  ['country', 'str', (e) => e.country],
  ['region', 'str', (e) => e.region],
  ['city', 'str', (e) => e.city],
  ['lat', 'num', (e) => e.lat],
  ['lon', 'num', (e) => e.lon],
  ['org', 'str', (e) => e.org],
  ['browser', 'str', (e) => e.browser],
  ['os', 'str', (e) => e.os],
  ['platform', 'str', (e) => e.platform],
  ['is_bot', 'bool', (e) => e.isBot],
];

function appendEvent(app: DuckDBAppender, e: StoredEvent): void {
  for (const [, kind, get] of COLUMNS) {
    const v = get(e);
    if (v === null || v === undefined) app.appendNull();
    else if (kind === 'str') app.appendVarchar(v as string);
    else if (kind === 'num') app.appendDouble(v as number);
    else if (kind === 'bool') app.appendBoolean(v as boolean);
    else if (kind === 'big') app.appendBigInt(BigInt(v as number));
    else app.appendTimestamp(new DuckDBTimestampValue(BigInt(v as number) * 1000n));
  }
  app.endRow();
}

export function rowToEvent(r: Row): StoredEvent {
  return {
    seq: r.seq as number,
    accountId: r.account_id as string,
    id: r.id as string,
    clientId: (r.fp as number) !== 0,
    fp: r.fp as number,
    event: r.event as EventName,
    timestamp: r.ts as number,
    receivedAt: r.received_at as number,
    contentId: r.content_id as string,
    sessionId: r.session_id as string,
    userId: (r.user_id as string) ?? null,
    email: (r.email as string) ?? null,
    viewerAccountId: (r.viewer_account_id as string) ?? null,
    viewerName: (r.viewer_name as string) ?? null,
    deviceType: r.device_type as DeviceType,
    currentTime: (r.playhead as number) ?? null,
    url: (r.url as string) ?? null,
    referrer: (r.referrer as string) ?? null,
    domain: (r.domain as string) ?? null,
    title: (r.title as string) ?? null,
    duration: (r.duration as number) ?? null,
    data: r.data == null ? null : (JSON.parse(r.data as string) as Record<string, unknown>),
    ip: (r.ip as string) ?? null,
    userAgent: (r.user_agent as string) ?? null,
    country: (r.country as string) ?? null,
    region: (r.region as string) ?? null,
    city: (r.city as string) ?? null,
    lat: (r.lat as number) ?? null,
    lon: (r.lon as number) ?? null,
    org: (r.org as string) ?? null,
    browser: (r.browser as string) ?? null,
    os: (r.os as string) ?? null,
    platform: r.platform as Platform,
    isBot: r.is_bot as boolean,
  };
}

export function eventRepo(db: Db): EventRepo {
  let busy = false;
  return {
    async insert(events, fills) {
      if (busy) throw new Error('event writes must be serialized by the caller');
      busy = true;
      try {
        await db.withWriter(async (writer) => {
          await writer.run('BEGIN TRANSACTION');
          try {
            const app = await writer.createAppender('events');
            try {
              for (const e of events) appendEvent(app, e);
              app.flushSync();
            } finally {
              app.closeSync();
            }
            if (fills.length) await applyFills(writer, fills, Date.now());
            await writer.run('COMMIT');
          } catch (err) {
            await writer.run('ROLLBACK').catch(() => undefined);
            throw err;
          }
        });
      } finally {
        busy = false;
      }
    },
    async scanFingerprints(visit) {
      await db.with(async (q) => {
        const result = await q.conn.stream('SELECT fp FROM events WHERE fp <> 0');
        for (;;) {
          const chunk = await result.fetchChunk();
          if (!chunk || chunk.rowCount === 0) break;
          for (const v of chunk.getColumnValues(0)) visit(Number(v as bigint));
        }
      });
    },
    async existingIds(accountId, ids) {
      if (!ids.length) return new Set();
      const rows = await db.all<{ id: string }>(
        'SELECT DISTINCT id FROM events WHERE account_id = ? AND id IN (SELECT unnest(?::JSON::VARCHAR[]))',
        [accountId, JSON.stringify(ids)],
      );
      return new Set(rows.map((r) => r.id));
    },
    async maxSeq() {
      const r = await db.one<{ m: number | null }>('SELECT max(seq) AS m FROM events');
      return r?.m ?? 0;
    },
    async deleteBefore(accountId, beforeMs) {
      return db.run('DELETE FROM events WHERE account_id = ? AND ts < ?', [accountId, new Date(beforeMs)]);
    },
    async readAfter(accountId, afterSeq, limit) {
      const rows = await db.all('SELECT * FROM events WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?', [accountId, afterSeq, limit]);
      return rows.map(rowToEvent);
    },
  };
}

async function applyFills(writer: DuckDBConnection, fills: CatalogFill[], at: number): Promise<void> {
  const values: string[] = [];
  const params: Array<string | number | null | DuckDBTimestampValue> = [];
  const now = new DuckDBTimestampValue(BigInt(at) * 1000n);
  for (const f of fills) {
    values.push('(?, ?, ?, ?, ?, ?)');
    params.push(f.accountId, f.contentId, f.title, f.duration, now, now);
  }
  await writer.run(
    `INSERT INTO videos (account_id, content_id, title, seen_duration, created_at, updated_at)
     VALUES ${values.join(', ')}
     ON CONFLICT (account_id, content_id) DO UPDATE SET
       title = coalesce(videos.title, excluded.title),
       seen_duration = CASE WHEN excluded.seen_duration IS NULL THEN videos.seen_duration
                            WHEN videos.seen_duration IS NULL THEN excluded.seen_duration
                            ELSE greatest(videos.seen_duration, excluded.seen_duration) END`,
    params,
  );
}
