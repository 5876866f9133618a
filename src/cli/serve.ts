/**
 * `realm-lm serve`: loads a REALM once and serves the HTTP API and web page of src/server/app.ts (POST /api/fill,
 * GET /api/health, GET /) until SIGINT / SIGTERM, then closes the server and the document store and exits 0.
 */
import { serve } from '@hono/node-server';
import { Realm } from '../api/realm.js';
import { createApp } from '../server/app.js';
import { intOption, parseCommand } from './args.js';
import { UsageError } from './errors.js';

/** Runs the serve sub-command; resolves when the server has stopped. */
export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand('serve', argv, {
    model: { type: 'string', short: 'm' },
    corpus: { type: 'string' },
    index: { type: 'string' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
  });
  const port = intOption('serve', 'port', values.port, 0, 65535) ?? 8080;
  const host = values.host ?? '127.0.0.1';
  if (host.trim() === '') throw new UsageError('serve: --host must not be empty');
  const realm = await Realm.load({ modelDir: values.model, corpus: values.corpus, index: values.index });
  const app = createApp(realm);
  return new Promise<number>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
      const shown = info.address.includes(':') ? `[${info.address}]` : info.address;
      process.stderr.write(`realm-lm serve: ${realm.modelDir} (${realm.store.size} blocks) on http://${shown}:${info.port}/ — POST /api/fill, GET /api/health; Ctrl-C stops\n`);
    });
    server.on('error', (e: NodeJS.ErrnoException) => {
      realm.close();
      reject(e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL'
        ? new UsageError(`serve: cannot listen on ${host}:${port}: ${e.code}`) : e);
    });
    const stop = (): void => {
      server.close(() => {
        realm.close();
        resolve(0);
      });
      if ('closeAllConnections' in server) (server as { closeAllConnections(): void }).closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
