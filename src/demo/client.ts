/**
 * The demo's HTTP client of a running server: JSON calls with the API token, and the collector fed
 * in batches of at most 1000 events, a few requests at a time, each batch resent with the same ids
 * after a 429/503 (Retry-After) or a network failure — the collector stores each id once.
 */

export class DemoError extends Error {}

export interface SendTotals {
  requests: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** The first few rejections, as the collector worded them. */
  reasons: string[];
  retries: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class DemoClient {
  constructor(readonly url: string, private readonly token: string) {}

  async json(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<any> {
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new DemoError(`cannot reach ${this.url} (${(err as Error).cause ?? (err as Error).message}); is the server running? (npm start)`);
    }
    const text = await res.text();
    if (res.status === 401) throw new DemoError(`${this.url} refused the API token (401): pass the account's token with --token or REELSTAT_API_TOKEN`);
    if (res.status >= 300) throw new DemoError(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }

  /** Posts every event, `concurrency` requests at a time; `progress` after each confirmed batch. */
  async collect(events: unknown[], opts: { batch: number; concurrency: number; progress?: (sent: number) => void }): Promise<SendTotals> {
    const totals: SendTotals = { requests: 0, accepted: 0, duplicates: 0, rejected: 0, reasons: [], retries: 0 };
    let next = 0;
    let sent = 0;
    const worker = async () => {
      while (next < events.length) {
        const batch = events.slice(next, next + opts.batch);
        next += batch.length;
        const r = await this.post(batch, totals);
        totals.accepted += r.accepted;
        totals.duplicates += r.duplicates;
        totals.rejected += r.rejected.length;
        for (const x of r.rejected) if (totals.reasons.length < 5) totals.reasons.push(`${x.field}: ${x.error}`);
        sent += batch.length;
        opts.progress?.(sent);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    return totals;
  }

  private async post(batch: unknown[], totals: SendTotals): Promise<{ accepted: number; duplicates: number; rejected: Array<{ field: string; error: string }> }> {
    const body = JSON.stringify({ events: batch });
    for (let attempt = 1; ; attempt++) {
      let wait = Math.min(10_000, 500 * 2 ** attempt);
      try {
        totals.requests++;
        const res = await fetch(`${this.url}/api/v1/collect`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
          body,
        });
        const text = await res.text();
        if (res.status === 202) return JSON.parse(text);
        if (res.status !== 429 && res.status !== 503) throw new DemoError(`the collector answered ${res.status}: ${text.slice(0, 300)}`);
        const ra = Number(res.headers.get('retry-after'));
        if (ra > 0) wait = ra * 1000;
      } catch (err) {
        if (err instanceof DemoError) throw err;
        if (attempt >= 8) throw new DemoError(`the collector at ${this.url} cannot be reached: ${(err as Error).message}`);
      }
      if (attempt >= 20) throw new DemoError('the collector kept answering 429/503; try again later or with fewer --sessions');
      totals.retries++;
      await sleep(wait);
    }
  }
}
