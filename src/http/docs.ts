/** The OpenAPI document and a readable, self-contained reference page built from it. */
import type { FastifyInstance } from 'fastify';
import { markOptionalBodies } from './optional-body.ts';

type Op = { summary?: string; description?: string; tags?: string[]; parameters?: Array<{ name: string; in: string; required?: boolean; schema?: unknown; description?: string }>; requestBody?: { content?: Record<string, { schema?: unknown }> } };

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function renderReference(spec: { info?: { title?: string; version?: string }; paths?: Record<string, Record<string, Op>> }): string {
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(spec.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      const params = (op.parameters ?? [])
        .map((p) => `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''})${p.description ? ' — ' + esc(p.description) : ''}</li>`)
        .join('');
      const body = op.requestBody?.content ? Object.values(op.requestBody.content)[0]?.schema : undefined;
      const html =
        `<section><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>` +
        (op.summary ? `<p><b>${esc(op.summary)}</b></p>` : '') +
        (op.description ? `<p>${esc(op.description)}</p>` : '') +
        (params ? `<ul>${params}</ul>` : '') +
        (body ? `<details><summary>Request body</summary><pre>${esc(JSON.stringify(body, null, 2))}</pre></details>` : '') +
        '</section>';
      const tag = op.tags?.[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const toc = [...byTag.keys()].map((t) => `<a href="#${esc(t)}">${esc(t)}</a>`).join(' · ');
  const sections = [...byTag].map(([t, items]) => `<h2 id="${esc(t)}">${esc(t)}</h2>${items.join('')}`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(spec.info?.title ?? 'API')} reference</title><style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:.5rem 0} code{background:#f4f4f4;padding:0 .25rem}
pre{background:#f7f7f7;padding:.5rem;overflow:auto;font-size:13px} .m{font:bold 12px monospace;padding:2px 6px;border-radius:3px;color:#fff;background:#555}
.get{background:#2a7} .post{background:#27c} .put{background:#c80} .delete{background:#c33}
</style></head><body><h1>${esc(spec.info?.title ?? 'API')} <small>${esc(spec.info?.version ?? '')}</small></h1>
<p>Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3). Errors are <code>{"error": {"code", "message"}}</code> unless a vendor dialect fixes another shape.</p>
<p>${toc}</p>${sections}</body></html>`;
}

export async function docsRoutes(app: FastifyInstance): Promise<void> {
  const spec = () => markOptionalBodies(app.swagger());
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => spec());
  app.get('/api/v1/docs', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(renderReference(spec() as never)));
}
