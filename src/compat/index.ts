/** The vendor dialects of spec/compat.md, each a thin translation over the same metrics. */
import type { FastifyInstance } from 'fastify';
import { cincopaRoutes } from './cincopa/routes.ts';
import { contentsquareRoutes } from './contentsquare/routes.ts';
import type { CompatDeps } from './deps.ts';
import { kinescopeRoutes } from './kinescope/routes.ts';
import { wistiaRoutes } from './wistia/routes.ts';

export async function compatRoutes(app: FastifyInstance, deps: CompatDeps): Promise<void> {
  await app.register(kinescopeRoutes, deps);
  await app.register(cincopaRoutes, deps);
  await app.register(wistiaRoutes, deps);
  await app.register(contentsquareRoutes, deps);
}
