/** The cincopa dialect (spec/compat.md). */
import type { FastifyInstance } from 'fastify';
import type { CompatDeps } from '../deps.ts';

export async function cincopaRoutes(_app: FastifyInstance, _deps: CompatDeps): Promise<void> {}
