/** One table of error codes: HTTP status and default message. Every error answer goes through it. */

export const ERRORS = {
  bad_request: { status: 400, message: 'The request is not valid.' },
  invalid_body: { status: 400, message: 'The body could not be parsed.' },
  validation_failed: { status: 400, message: 'A parameter is not valid.' },
  unauthorized: { status: 401, message: 'Missing or unknown credentials.' },
  forbidden: { status: 403, message: 'These credentials do not allow this.' },
  not_found: { status: 404, message: 'Not found.' },
  method_not_allowed: { status: 405, message: 'Method not allowed.' },
  request_timeout: { status: 408, message: 'The request did not arrive in time.' },
  conflict: { status: 409, message: 'This conflicts with what exists.' },
  gone: { status: 410, message: 'This is no longer available.' },
  precondition_failed: { status: 412, message: 'A precondition of the request does not hold.' },
  payload_too_large: { status: 413, message: 'The body is too large.' },
  range_not_satisfiable: { status: 416, message: 'The range asked for is not in the file.' },
  unsupported_media_type: { status: 415, message: 'This content type is not accepted.' },
  rate_limited: { status: 429, message: 'Too many requests.' },
  headers_too_large: { status: 431, message: 'The request headers are too large.' },
  too_many_failures: { status: 429, message: 'Too many failed authentication attempts from this address.' },
  internal: { status: 500, message: 'Internal error.' },
  unavailable: { status: 503, message: 'The server cannot take this request now.' },
  shutting_down: { status: 503, message: 'The server is shutting down.' },
  storage_unavailable: { status: 503, message: 'Writes cannot be made durable right now.' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** An error that knows its own response. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly extra: { retryAfter?: number; headers?: Record<string, string> } = {},
  ) {
    super(message ?? ERRORS[code].message);
    this.status = ERRORS[code].status;
  }

  body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}
