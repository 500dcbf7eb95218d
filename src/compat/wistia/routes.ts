/** The wistia dialect (spec/compat.md). */
import type { FastifyInstance } from 'fastify';
import type { CompatDeps } from '../deps.ts';

export async function wistiaRoutes(_app: FastifyInstance, _deps: CompatDeps): Promise<void> {}
