/**
 * What a client gets when Node's HTTP parser refuses its request before Fastify sees it (headers over
 * Node's 16 KB, a request line or header that is not HTTP, a request that took too long to arrive):
 * the error table's shape, not Fastify's default `{"error","message","statusCode"}`. The connection is
 * closed after the answer, as Node does; a reset connection gets nothing.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { AppError } from '../errors.ts';

export function clientErrorAnswer(err: NodeJS.ErrnoException): AppError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new AppError('headers_too_large', 'The request headers are too large: at most 16 KB in all (URL and cookies included).');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError('request_timeout', 'The request did not arrive in time; send it again.');
    default:
      return new AppError('bad_request', 'The request is not valid HTTP/1.1.');
  }
}

export function clientErrorHandler(this: { log: { debug(o: object, m: string): void } }, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e = clientErrorAnswer(err);
  this.log.debug({ code: err.code }, 'request refused by the HTTP parser');
  if (socket.writable) {
    const body = JSON.stringify(e.body());
    socket.write(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}
