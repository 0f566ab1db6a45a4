// The dashboard's WebSocket (`/admin/ws`): every second while a page is open, one snapshot of
// the metrics is made, serialised once and sent to every page; a page may also follow one
// delegation, which is sent again whenever the namers change it. A page that cannot keep up
// misses snapshots rather than piling them up in memory.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Closable } from '../core/index.ts';
import type { AdminHooks, Answer } from './hooks.ts';
import { dashboardSnapshot } from './snapshot.ts';

/** A page further behind than this is sent nothing until it catches up. */
const MAX_BUFFERED = 1024 * 1024;
/** Messages a page sends are small. */
const MAX_MESSAGE = 64 * 1024;
/** A page that does not answer a ping within this is closed. */
const PING_MS = 30_000;

interface Page {
  delegation: Closable | undefined;
  alive: boolean;
}

export class Feed {
  readonly #hooks: AdminHooks;
  readonly #intervalMs: number;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE, perMessageDeflate: false });
  readonly #pages = new Map<WebSocket, Page>();
  #tick: NodeJS.Timeout | undefined;
  #ping: NodeJS.Timeout | undefined;
  /** A push is being written (one at a time: a slow one is not stacked on by the next tick). */
  #pushing = false;
  /**
   * The last snapshot pushed, sent as is to a page as it opens: after a daemon restart every
   * open page reconnects at once, and each making its own would be a hundred snapshots in a
   * second. Dropped when the last page closes, so a page opened later gets a fresh one.
   */
  #last: Buffer | undefined;
  /** The snapshot being made for the pages that opened before there was one to send. */
  #first: Promise<Buffer> | undefined;
  /**
   * Each router's retry budget, read again only when the metrics' names or the config (a
   * reload) have changed: reading it walks every router's services, each second otherwise.
   */
  #budgets: { version: number; config: unknown; byLabel: ReadonlyMap<string, number> } | undefined;
  /** Snapshots sent (for tests and the benchmark). */
  pushes = 0;

  constructor(hooks: AdminHooks, intervalMs = 1000) {
    this.#hooks = hooks;
    this.#intervalMs = intervalMs;
  }

  get pages(): number {
    return this.#pages.size;
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#open(ws));
  }

  #open(ws: WebSocket): void {
    const page: Page = { delegation: undefined, alive: true };
    this.#pages.set(ws, page);
    ws.on('pong', () => {
      page.alive = true;
    });
    ws.on('message', (data, isBinary) => this.#message(ws, page, isBinary ? undefined : data.toString()));
    ws.on('close', () => this.#closed(ws, page));
    ws.on('error', () => ws.terminate());
    this.#send(ws, JSON.stringify({ type: 'hello', version: this.#hooks.version, intervalMs: this.#intervalMs, routers: [...this.#retryBudgets().keys()] }));
    // A snapshot at once, so a page has numbers before the next tick.
    if (this.#last !== undefined) this.#send(ws, this.#last);
    else void this.#firstSnapshot().then((data) => this.#send(ws, data));
    if (this.#tick === undefined) {
      this.#tick = setInterval(() => void this.#push(), this.#intervalMs);
      this.#ping = setInterval(() => this.#heartbeat(), PING_MS);
    }
  }

  #closed(ws: WebSocket, page: Page): void {
    page.delegation?.close();
    this.#pages.delete(ws);
    if (this.#pages.size === 0) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#tick);
    clearInterval(this.#ping);
    this.#tick = undefined;
    this.#ping = undefined;
    this.#last = undefined;
  }

  #retryBudgets(): ReadonlyMap<string, number> {
    const version = this.#hooks.metrics.version;
    const config = this.#hooks.config();
    const hit = this.#budgets;
    if (hit !== undefined && hit.version === version && hit.config === config) return hit.byLabel;
    const byLabel = new Map(this.#hooks.routers().map((r) => [r.label, r.retryBudgetPercent]));
    this.#budgets = { version, config, byLabel };
    return byLabel;
  }

  /** A snapshot, encoded once for every page (a string would be encoded again for each). */
  async #snapshot(): Promise<Buffer> {
    return Buffer.from(await dashboardSnapshot(this.#hooks.metrics, this.#hooks.version, this.#retryBudgets()));
  }

  /** One snapshot for however many pages open before the first push. */
  #firstSnapshot(): Promise<Buffer> {
    this.#first ??= this.#snapshot()
      .then((data) => {
        if (this.#pages.size > 0) this.#last ??= data;
        return data;
      })
      .finally(() => {
        this.#first = undefined;
      });
    return this.#first;
  }

  async #push(): Promise<void> {
    if (this.#pushing) return;
    this.#pushing = true;
    try {
      const data = await this.#snapshot();
      // Every page may have closed meanwhile: nothing is kept for a page opened later.
      if (this.#pages.size > 0) this.#last = data;
      for (const ws of this.#pages.keys()) this.#send(ws, data);
    } finally {
      this.#pushing = false;
    }
  }

  #send(ws: WebSocket, data: string | Buffer): void {
    if (ws.readyState !== ws.OPEN || ws.bufferedAmount > MAX_BUFFERED) return;
    this.pushes++;
    ws.send(data, { binary: false });
  }

  #heartbeat(): void {
    for (const [ws, page] of this.#pages) {
      if (!page.alive) {
        ws.terminate();
        continue;
      }
      page.alive = false;
      ws.ping();
    }
  }

  /** `{"type":"delegate","id","namespace","dtab","path"}` follows a delegation; `undelegate` stops. */
  #message(ws: WebSocket, page: Page, text: string | undefined): void {
    let m: unknown;
    try {
      m = text === undefined ? undefined : JSON.parse(text);
    } catch (e) {
      this.#send(ws, JSON.stringify({ type: 'error', error: `Malformed message: ${(e as Error).message}` }));
      return;
    }
    const msg = m as Record<string, unknown> | undefined;
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      this.#send(ws, JSON.stringify({ type: 'error', error: 'Malformed message: expected a JSON object' }));
      return;
    }
    page.delegation?.close();
    page.delegation = undefined;
    if (msg['type'] === 'undelegate') return;
    if (msg['type'] !== 'delegate') {
      this.#send(ws, JSON.stringify({ type: 'error', error: `Unknown message type ${JSON.stringify(msg['type'])}; known: delegate, undelegate` }));
      return;
    }
    const id = typeof msg['id'] === 'number' || typeof msg['id'] === 'string' ? msg['id'] : null;
    const { namespace, dtab, path } = msg;
    const tell = (a: Answer): void => {
      const body = typeof a.body === 'string' ? { error: a.body } : { body: a.body };
      this.#send(ws, JSON.stringify({ type: 'delegation', id, status: a.status, ...body }));
    };
    if (typeof path !== 'string' || (dtab !== undefined && typeof dtab !== 'string') || (namespace !== undefined && namespace !== null && typeof namespace !== 'string')) {
      tell({ status: 400, body: 'Malformed delegation request: path (a string) is required; dtab and namespace are strings' });
      return;
    }
    page.delegation = this.#hooks.watchDelegation((namespace as string | null | undefined) ?? undefined, (dtab as string | undefined) ?? '', path, tell);
  }

  close(): void {
    this.#stop();
    for (const [ws, page] of this.#pages) {
      page.delegation?.close();
      ws.terminate();
    }
    this.#pages.clear();
    this.#wss.close();
  }
}
