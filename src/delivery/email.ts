/**
 * Email delivery of exports (spec/exports.md "Scheduled exports", "Reports"): one message with a
 * plain-text and an HTML part listing signed download links. Files are never attached.
 */
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { AppError } from '../errors.ts';

export interface ExportLink {
  name: string;
  url: string;
  /** Bytes. */
  size: number;
  rows: number;
  expiresAt: string | Date;
}

export interface ExportEmail {
  to: string;
  subject: string;
  links: ExportLink[];
  /** The period the export covers (ISO strings or dates), shown in the message. */
  period?: { from: string | Date; to: string | Date };
}

export interface SentEmail {
  messageId: string;
  accepted: string[];
}

export interface Mailer {
  sendExportEmail(email: ExportEmail): Promise<SentEmail>;
  close(): void;
}

export type EmailCheck = { ok: true; address: string } | { ok: false; error: string };

const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[\p{L}\p{N}-]{1,63}(?<!-)$/u;

/** A single plain address (a@b.c), no display name, no list; the reason when it is not one. */
export function checkEmailAddress(input: unknown): EmailCheck {
  if (typeof input !== 'string') return { ok: false, error: 'expected an email address as a string, like name@example.com' };
  if (input.trim() === '') return { ok: false, error: 'the email address is empty' };
  const address = input.trim();
  const bad = (why: string): EmailCheck => ({ ok: false, error: `${JSON.stringify(address.slice(0, 80))} is not a valid email address: ${why}` });
  if (address.length > 254) return bad('it is longer than 254 characters');
  if (/[\s<>,;"()\\]/.test(address)) return bad('give one plain address like name@example.com, without a name, spaces or a list');
  const at = address.lastIndexOf('@');
  if (at < 1 || address.indexOf('@') !== at) return bad('expected exactly one @ with a name before it');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64) return bad('the part before @ is longer than 64 characters');
  if (!LOCAL.test(local)) return bad('the part before @ has a character or dot that is not allowed');
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return bad('the domain after @ is not a valid host name like example.com');
  return { ok: true, address };
}

function validUrl(u: string): boolean {
  try {
    const p = new URL(u);
    return p.protocol === 'https:' || p.protocol === 'http:';
  } catch {
    return false;
  }
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return 'unknown size';
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

const iso = (d: string | Date): string => (d instanceof Date ? d.toISOString() : String(d));
const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const count = (n: number): string => (Number.isFinite(n) ? n.toLocaleString('en-US') : '?');

/** The text and HTML bodies of an export email (exported for previews and tests). */
export function renderExportEmail(email: Pick<ExportEmail, 'links' | 'period'>): { text: string; html: string } {
  const period = email.period ? `${iso(email.period.from)} to ${iso(email.period.to)}` : null;
  const intro = period ? `Your Reelstat export for ${period} is ready.` : 'Your Reelstat export is ready.';
  const files = email.links.length === 1 ? 'Download it' : `Download its ${email.links.length} files`;
  const note = 'Anyone who has these links can download the files until they expire, so share them with care.';

  const text = [
    intro,
    '',
    `${files} here:`,
    '',
    ...email.links.flatMap((l, i) => [
      `${i + 1}. ${l.name} (${formatBytes(l.size)}, ${count(l.rows)} rows, expires ${iso(l.expiresAt)})`,
      `   ${l.url}`,
      '',
    ]),
    note,
    '',
  ].join('\n');

  const rows = email.links
    .map(
      (l) =>
        `<tr><td><a href="${escapeHtml(l.url)}">${escapeHtml(l.name)}</a></td>` +
        `<td>${escapeHtml(formatBytes(l.size))}</td><td>${escapeHtml(count(l.rows))}</td><td>${escapeHtml(iso(l.expiresAt))}</td></tr>`,
    )
    .join('\n');
  const html = `<!doctype html>
<html><body style="font-family: sans-serif">
<p>${escapeHtml(intro)}</p>
<p>${escapeHtml(files)} here:</p>
<table cellpadding="6" style="border-collapse: collapse">
<tr><th align="left">File</th><th align="left">Size</th><th align="left">Rows</th><th align="left">Link expires</th></tr>
${rows}
</table>
<p style="color: #555">${escapeHtml(note)}</p>
</body></html>
`;
  return { text, html };
}

/**
 * A mailer sending through `smtpUrl` (REELSTAT_SMTP_URL, e.g. smtps://user:pass@smtp.example.com:465
 * or smtp://host:587) from `from` (an address; REELSTAT_SMTP_FROM).
 */
export function createMailer(opts: { smtpUrl: string; from: string; fromName?: string }): Mailer {
  if (!/^smtps?:\/\/[^/]/i.test(opts.smtpUrl ?? '')) {
    throw new Error('the SMTP URL must look like smtp://host:587 or smtps://user:password@host:465');
  }
  const from = checkEmailAddress(opts.from);
  if (!from.ok) throw new Error(`the sender address is not valid: ${from.error}`);
  // nodemailer is loaded at the first email, not at every start (~0.1 s of each restart, more under load).
  let transport: Transporter<SMTPTransport.SentMessageInfo> | null = null;
  let closed = false;
  const connect = async () => (transport ??= (await import('nodemailer')).default.createTransport(opts.smtpUrl));
  const sender = { name: opts.fromName ?? 'Reelstat', address: from.address };

  return {
    async sendExportEmail(email) {
      const to = checkEmailAddress(email.to);
      if (!to.ok) throw new AppError('validation_failed', to.error);
      const subject = String(email.subject ?? '').replace(/[\r\n]+/g, ' ').trim().slice(0, 200);
      if (!subject) throw new AppError('validation_failed', 'the email subject is empty');
      if (!Array.isArray(email.links) || email.links.length === 0) throw new AppError('validation_failed', 'an export email needs at least one download link');
      const badLink = email.links.find((l) => !validUrl(l.url));
      if (badLink) throw new AppError('validation_failed', `the download link of ${JSON.stringify(badLink.name)} is not an http(s) URL`);

      const { text, html } = renderExportEmail(email);
      let info: { messageId: string; accepted: Array<string | { address: string }>; rejected: Array<string | { address: string }> };
      try {
        if (closed) throw new Error('the mailer is closed');
        info = await (await connect()).sendMail({ from: sender, to: to.address, subject, text, html });
      } catch (err) {
        throw new Error(`sending the export email failed: ${(err as Error).message}`, { cause: err });
      }
      const addr = (a: string | { address: string }) => (typeof a === 'string' ? a : a.address);
      if (info.rejected.length > 0) throw new Error(`the mail server refused the recipient ${info.rejected.map(addr).join(', ')}`);
      return { messageId: info.messageId, accepted: info.accepted.map(addr) };
    },
    close() {
      closed = true;
      transport?.close();
    },
  };
}
