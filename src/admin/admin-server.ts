// The admin server (linkerd's, on 127.0.0.1:9990 by default): liveness, lifecycle and the
// metrics tree for now: `GET /admin/ping`, `POST /admin/shutdown`, `GET /admin/metrics.json`,
// `GET /admin/metrics/prometheus`.
// It reads the daemon through the callbacks it is given; nothing else imports it.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface AdminHooks {
  /** Starts a graceful shutdown (drain, then exit). */
  shutdown(): void;
  /** Every metric by its flat name (`/admin/metrics.json`). */
  metrics(): Record<string, number>;
  /** Every metric in Prometheus's text format (`/admin/metrics/prometheus`). */
  prometheus(): string;
}

function send(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

export class AdminServer {
  readonly server: Server;
  readonly #hooks: AdminHooks;

  constructor(hooks: AdminHooks) {
    this.#hooks = hooks;
    this.server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => this.#handle(req, res));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    // A body, if any, is not read: drain it so the connection can be reused.
    req.resume();
    switch (path) {
      case '/admin/ping':
        send(res, 200, 'pong');
        return;
      case '/admin/metrics/prometheus': {
        const body = this.#hooks.prometheus();
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case '/admin/metrics.json': {
        const body = JSON.stringify(this.#hooks.metrics());
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case '/admin/shutdown':
        if (req.method !== 'POST') {
          send(res, 405, 'POST to shut down\n', { allow: 'POST' });
          return;
        }
        send(res, 200, 'shutting down\n');
        res.once('finish', () => this.#hooks.shutdown());
        return;
      default:
        send(res, 404, `not found: ${path}\n`);
    }
  }

  listen(port: number, ip: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, ip, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
