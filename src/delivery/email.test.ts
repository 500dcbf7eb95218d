import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { AppError } from '../errors.ts';
import { checkEmailAddress, createMailer, type ExportLink, type Mailer } from './email.ts';

interface Received {
  from: string;
  to: string[];
  raw: string;
}

interface Part {
  headers: Record<string, string>;
  body: string;
}

/** Enough MIME to read nodemailer's output: headers, multipart bodies, QP and base64. */
function headersOf(raw: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

function parseMime(raw: string): Part[] {
  const body = raw.split(/\r?\n\r?\n/).slice(1).join('\r\n\r\n');
  const headers = headersOf(raw);
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (type.startsWith('multipart/') && boundary) {
    const chunks = body.split(`--${boundary}`).slice(1);
    return chunks.filter((c) => !c.startsWith('--')).flatMap((c) => parseMime(c.replace(/^\r?\n/, '')));
  }
  const cte = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  let text = body;
  if (cte === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => `%${h}`);
    text = decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, '%25'));
  } else if (cte === 'base64') text = Buffer.from(body, 'base64').toString('utf8');
  return [{ headers, body: text }];
}

describe('export email through a real SMTP server on loopback', () => {
  const inbox: Received[] = [];
  let server: SMTPServer;
  let mailer: Mailer;
  let port: number;
  before(async () => {
    server = new SMTPServer({
      authOptional: true,
      secure: false,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, cb) {
        if (address.address.startsWith('refused@')) return cb(new Error('mailbox unavailable'));
        cb();
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const from = session.envelope.mailFrom;
          inbox.push({ from: from ? from.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
          cb();
        });
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.server.address() as AddressInfo).port;
    mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'exports@reelstat.example' });
  });
  after(async () => {
    mailer.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const links: ExportLink[] = [
    {
      name: 'events-2025-05-31.csv.gz',
      url: 'https://stats.example.com/api/v1/files/exp_1/events-2025-05-31.csv.gz?expires=1749340800&sig=Zm9vYmFyYmF6cXV4cXV1eHh5enp5eHdhYmNkZWZnaGlqa2xtbm9w',
      size: 1_234_567,
      rows: 12_345,
      expiresAt: '2025-06-08T00:00:00Z',
    },
    { name: 'quality <b>&</b> "ads".jsonl', url: 'https://stats.example.com/f/2?expires=1&sig=a&b=<x>', size: 512, rows: 3, expiresAt: new Date('2025-06-08T00:00:00Z') },
  ];

  test('the message reaches the recipient with the links in text and HTML and no attachment', async () => {
    const sent = await mailer.sendExportEmail({
      to: 'analyst@example.com',
      subject: 'Your daily Reelstat export',
      links,
      period: { from: '2025-05-31T00:00:00Z', to: '2025-06-01T00:00:00Z' },
    });
    assert.deepEqual(sent.accepted, ['analyst@example.com']);
    assert.ok(sent.messageId);
    const msg = inbox.at(-1)!;
    assert.deepEqual(msg.to, ['analyst@example.com']);
    assert.equal(msg.from, 'exports@reelstat.example');
    const top = headersOf(msg.raw);
    assert.equal(top['subject'], 'Your daily Reelstat export');
    assert.match(top['to']!, /analyst@example\.com/);
    assert.match(top['from']!, /Reelstat.*<exports@reelstat\.example>/);
    assert.match(top['content-type']!, /^multipart\/alternative/);

    const parts = parseMime(msg.raw);
    assert.deepEqual(parts.map((p) => p.headers['content-type']!.split(';')[0]).sort(), ['text/html', 'text/plain']);
    assert.ok(parts.every((p) => !/attachment|filename=/i.test((p.headers['content-disposition'] ?? '') + p.headers['content-type'])), 'no attachment');
    assert.doesNotMatch(msg.raw, /Content-Disposition:\s*attachment/i);

    const text = parts.find((p) => p.headers['content-type']!.startsWith('text/plain'))!.body;
    const html = parts.find((p) => p.headers['content-type']!.startsWith('text/html'))!.body;
    assert.ok(text.includes(links[0]!.url), 'first link in the text part');
    assert.ok(text.includes(links[1]!.url), 'second link in the text part');
    assert.match(text, /events-2025-05-31\.csv\.gz \(1\.2 MB, 12,345 rows, expires 2025-06-08T00:00:00Z\)/);
    assert.match(text, /2025-05-31T00:00:00Z to 2025-06-01T00:00:00Z/);
    assert.ok(html.includes(`<a href="${links[0]!.url.replaceAll('&', '&amp;')}">events-2025-05-31.csv.gz</a>`), 'first link in the HTML part');
    assert.ok(html.includes('href="https://stats.example.com/f/2?expires=1&amp;sig=a&amp;b=&lt;x&gt;"'), 'second link, escaped');
    assert.ok(html.includes('quality &lt;b&gt;&amp;&lt;/b&gt; &quot;ads&quot;.jsonl'), 'names are escaped');
    assert.ok(!html.includes('<b>'));
  });

  test('bad recipients, subjects and links are refused with a clear error before sending', async () => {
    const count = inbox.length;
    const base = { subject: 'x', links };
    for (const to of ['', 'nobody', 'a@b', 'a@@b.com', 'Ann <ann@example.com>', 'a@example.com, b@example.com', 'a b@example.com', 'ann@example.com\r\nBcc: x@y.z', '.a@example.com']) {
      await assert.rejects(mailer.sendExportEmail({ ...base, to }), (e: unknown) => e instanceof AppError && e.code === 'validation_failed' && /email address/.test(e.message), JSON.stringify(to));
    }
    await assert.rejects(mailer.sendExportEmail({ to: 'a@example.com', subject: '\r\n', links }), /subject is empty/);
    await assert.rejects(mailer.sendExportEmail({ to: 'a@example.com', subject: 's', links: [] }), /at least one download link/);
    await assert.rejects(mailer.sendExportEmail({ to: 'a@example.com', subject: 's', links: [{ ...links[0]!, url: 'javascript:alert(1)' }] }), /not an http\(s\) URL/);
    assert.equal(inbox.length, count, 'nothing was sent');
  });

  test('a recipient refused by the server is an error', async () => {
    await assert.rejects(mailer.sendExportEmail({ to: 'refused@example.com', subject: 's', links }), /sending the export email failed|refused the recipient/);
  });

  test('address checks and mailer settings', () => {
    assert.deepEqual(checkEmailAddress(' a.b+tag@sub.example.co '), { ok: true, address: 'a.b+tag@sub.example.co' });
    assert.equal(checkEmailAddress('a@b.c').ok, true);
    assert.equal(checkEmailAddress('ü@bücher.de').ok, false);
    assert.equal(checkEmailAddress('x@bücher.de').ok, true);
    assert.match((checkEmailAddress('a@-x.com') as { error: string }).error, /domain/);
    assert.throws(() => createMailer({ smtpUrl: 'http://mail.example.com', from: 'a@example.com' }), /smtp:\/\/host:587/);
    assert.throws(() => createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'not-an-address' }), /sender address/);
  });
});
