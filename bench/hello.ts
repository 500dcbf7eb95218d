/** The ceiling for C1: a bare Fastify hello-world taking a POST, in its own process. */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
app.post('/', async () => ({ hello: 'world' }));
const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.stdout.write(`Reelstat is serving on ${url}\n`);
