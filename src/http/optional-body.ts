/**
 * A JSON body that may be left out. Fastify validates a route's body schema even when no body came
 * (`body must be object`), refuses an empty body sent as application/json, and @fastify/swagger marks
 * every documented body required. A route spread with OPTIONAL_BODY takes no body, or an empty one,
 * as {} (then validated by its schema as usual), and its OpenAPI requestBody says `required: false`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { utf8JsonParser } from './json-body.ts';

const MARK = 'x-optional-body';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes an empty application/json body as no body (acceptEmptyJsonBody). */
    optionalBody?: boolean;
  }
}

/** Spread into a route's options; `schema` must be spread into the route's schema. */
export const OPTIONAL_BODY = {
  config: { optionalBody: true },
  preValidation: async (req: FastifyRequest) => {
    req.body ??= {};
  },
  schema: { [MARK]: true },
} as const;

/**
 * In the plugin `app` (its routes only, Fastify's encapsulation): an empty application/json body is
 * no body on routes with OPTIONAL_BODY, and refused as before on the others.
 */
export function acceptEmptyJsonBody(app: FastifyInstance): void {
  utf8JsonParser(app, (req) => req.routeOptions.config.optionalBody === true);
}

type Operation = { requestBody?: { required?: boolean }; [MARK]?: boolean };

/** The OpenAPI document with the requestBody of OPTIONAL_BODY routes not required (and the mark taken out). */
export function markOptionalBodies<T>(spec: T): T {
  const paths = (spec as { paths?: Record<string, Record<string, Operation>> }).paths ?? {};
  for (const ops of Object.values(paths)) {
    for (const op of Object.values(ops)) {
      if (!op || typeof op !== 'object' || !(MARK in op)) continue;
      if (op.requestBody) op.requestBody.required = false;
      delete op[MARK];
    }
  }
  return spec;
}
