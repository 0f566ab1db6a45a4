// Scrapes of a large tree written off the event loop. The registry's numbers live in shared
// memory (store.ts); a worker thread (export-worker.ts) keeps a copy of the names, told of each
// metric that comes or goes, and writes the export text while the event loop goes on routing.
// The main thread only writes the values of the gauges that are functions of its objects (a
// client's gauges are set as they change, or are sums the thread adds up itself), hands on the
// changes, and sends the chunks the thread fills. A small tree is written on the main thread,
// a slice at a time, as is every export when the thread cannot run: the thread costs memory
// (30-70 MB of RSS with 1,000 clients and services, bench/RESULTS.md), worth it only when a
// scrape would take the event loop for milliseconds.

import { Worker } from 'node:worker_threads';
import { releaseChunk } from './bytes.ts';
import { streamFlatJson, yieldToLoop } from './json.ts';
import type { Change } from './changes.ts';
import type { MetricsRegistry } from './metrics.ts';
import { streamPrometheus } from './prometheus.ts';

/** What the thread is started with. */
export interface ThreadSetup {
  readonly clock: SharedArrayBuffer;
  readonly windowMs: number;
  readonly slices: number;
}

export type ToThread =
  | { readonly type: 'changes'; readonly changes: Change[] }
  | { readonly type: 'chunks'; readonly buffers: ArrayBuffer[] }
  | { readonly type: 'export'; readonly id: number; readonly format: 'json'; readonly under: string | undefined }
  | { readonly type: 'export'; readonly id: number; readonly format: 'prometheus'; readonly prefix: string };

export type FromThread =
  | { readonly type: 'chunks'; readonly id: number; readonly buffers: ArrayBuffer[]; readonly lengths: number[] }
  | { readonly type: 'done'; readonly id: number; readonly error?: string };

/**
 * Gauges read between two turns of the event loop. Under load a slice of 250 took 0.30-0.45 ms
 * and now and then 1.8-3.4 ms (instrumented), and the requests that came meanwhile waited (bench/RESULTS.md).
 */
const GAUGE_SLICE = 50;

/** Scrapes within this long of the last read of the gauges print the values it wrote. */
const GAUGES_FRESH_MS = 100;

/** Metrics from which a scrape is written in the thread (a smaller tree is written in a few slices). */
export const THREAD_MIN_METRICS = 5000;

type Out = (chunk: Buffer) => void;

interface Pending {
  readonly out: Out;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  /**
   * Fails the thread if it makes no progress for the timeout (a hung thread would hold every
   * scrape); each message from the thread starts every pending export's again.
   */
  readonly timer: NodeJS.Timeout;
}

/**
 * How long the thread may go without a message (a chunk, or an export done) while exports wait
 * on it before it is given up for the event loop. Progress, not the whole export: under the
 * idle scheduling policy the thread gets only CPU nothing else wants, so on a saturated machine
 * a slow scrape is the thread waiting its turn, not hung, and moving it onto the event loop
 * would take the CPU from routing instead.
 */
const EXPORT_TIMEOUT_MS = 30_000;

export interface ExportThreadOptions {
  /** Metrics from which the thread writes the scrapes ({@link THREAD_MIN_METRICS} unless given; 0: always). */
  readonly minMetrics?: number;
  /** Told when the thread fails; exports go on, on the main thread. */
  readonly onFailure?: (error: Error) => void;
  /** The thread's module (export-worker next to this file unless given; tests give a broken one). */
  readonly workerFile?: URL;
  /** How long an export may go without progress in the thread before it is given up ({@link EXPORT_TIMEOUT_MS} unless given). */
  readonly timeoutMs?: number;
}

export class ExportThread {
  readonly #registry: MetricsRegistry;
  readonly #min: number;
  readonly #onFailure: ((error: Error) => void) | undefined;
  readonly #file: URL;
  readonly #timeoutMs: number;
  #worker: Worker | undefined;
  /** Why the thread stopped, once it has: exports are written on the main thread from then on. */
  failure: Error | undefined;
  /** Exports the thread has written whole (what tells a scrape went through it). */
  written = 0;
  #closed = false;
  #next = 1;
  readonly #pending = new Map<number, Pending>();
  /** Chunks sent, to go back to the thread together. */
  #returned: ArrayBuffer[] = [];
  #returning = false;

  constructor(registry: MetricsRegistry, options: ExportThreadOptions = {}) {
    this.#registry = registry;
    this.#min = options.minMetrics ?? THREAD_MIN_METRICS;
    this.#onFailure = options.onFailure;
    this.#timeoutMs = options.timeoutMs ?? EXPORT_TIMEOUT_MS;
    // The thread runs from the files this one runs from (TypeScript in a checkout, JavaScript built).
    this.#file = options.workerFile ?? new URL(import.meta.url.endsWith('.ts') ? './export-worker.ts' : './export-worker.js', import.meta.url);
  }

  /** Whether the thread writes the scrapes now. */
  get threaded(): boolean {
    return !this.#closed && this.failure === undefined && (this.#worker !== undefined || this.#registry.size >= this.#min);
  }

  /** `/admin/metrics.json`'s flat form, under `under`, as chunks given to `out`. */
  json(under: string | undefined, out: Out): Promise<void> {
    if (!this.threaded) return streamFlatJson(this.#registry, under, out);
    return this.#export({ type: 'export', id: this.#next++, format: 'json', under }, out);
  }

  /** The Prometheus text, each name prefixed by `prefix`, as chunks given to `out`. */
  prometheus(prefix: string, out: Out): Promise<void> {
    if (!this.threaded) return streamPrometheus(this.#registry, prefix, out);
    return this.#export({ type: 'export', id: this.#next++, format: 'prometheus', prefix }, out);
  }

  /** Gives a chunk back once it has been sent: to the thread that filled it, or to the pool. */
  release(chunk: Buffer): void {
    const ab = chunk.buffer;
    if (!(ab instanceof ArrayBuffer) || !THREAD_CHUNKS.has(ab)) return releaseChunk(chunk);
    THREAD_CHUNKS.delete(ab);
    if (this.#worker === undefined) return;
    this.#returned.push(ab);
    // Back in one message per turn of the event loop.
    if (this.#returning) return;
    this.#returning = true;
    setImmediate(() => {
      this.#returning = false;
      const buffers = this.#returned;
      this.#returned = [];
      if (this.#worker !== undefined && buffers.length > 0) this.#post({ type: 'chunks', buffers }, buffers);
    });
  }

  async #export(m: ToThread & { type: 'export' }, out: Out): Promise<void> {
    const main = () => (m.format === 'json' ? streamFlatJson(this.#registry, m.under, out) : streamPrometheus(this.#registry, m.prefix, out));
    if ((this.#worker ?? this.#start()) === undefined) return main();
    await this.#registry.publishGauges(GAUGE_SLICE, yieldToLoop, GAUGES_FRESH_MS);
    // The thread may have failed meanwhile.
    if (this.#worker === undefined) return main();
    this.#registry.handOn();
    // Nothing freed from now is used again until the thread has written this one.
    this.#registry.store.hold();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.#fail(new Error(`the metrics export thread made no progress on a scrape for ${this.#timeoutMs} ms`)), this.#timeoutMs);
      timer.unref();
      this.#pending.set(m.id, { out, resolve, reject, timer });
      this.#post(m);
    });
  }

  #post(m: ToThread, transfer?: ArrayBuffer[]): void {
    this.#worker?.postMessage(m, transfer);
  }

  #start(): Worker | undefined {
    const registry = this.#registry;
    const window = registry.window;
    let worker: Worker;
    try {
      const setup: ThreadSetup = { clock: window.memory, windowMs: window.sliceMs * window.slices, slices: window.slices };
      worker = new Worker(this.#file, { workerData: setup, name: 'dtabd metrics export' });
    } catch (e) {
      this.#fail(e instanceof Error ? e : new Error(String(e)));
      return undefined;
    }
    worker.unref();
    worker.on('message', (m: FromThread) => this.#message(m));
    worker.on('error', (e) => this.#fail(e));
    worker.on('exit', (code) => {
      if (!this.#closed) this.#fail(new Error(`the metrics export thread exited (code ${code})`));
    });
    this.#worker = worker;
    registry.follow((changes) => this.#post({ type: 'changes', changes }));
    return worker;
  }

  #message(m: FromThread): void {
    // The thread writes one export at a time: progress on any is progress on those queued
    // behind it, whose timers would otherwise run out while they wait their turn.
    for (const q of this.#pending.values()) q.timer.refresh();
    const p = this.#pending.get(m.id);
    if (p === undefined) return;
    if (m.type === 'chunks') {
      m.buffers.forEach((b, i) => {
        THREAD_CHUNKS.add(b);
        p.out(Buffer.from(b, 0, m.lengths[i]));
      });
      return;
    }
    this.#pending.delete(m.id);
    clearTimeout(p.timer);
    this.#registry.store.unhold();
    if (m.error === undefined) {
      this.written++;
      p.resolve();
    }
    else p.reject(new Error(`metrics export: ${m.error}`));
  }

  #fail(e: Error): void {
    if (this.failure !== undefined || this.#closed) return;
    this.failure = e;
    this.#stop(e);
    this.#onFailure?.(e);
  }

  #stop(e: Error): void {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#registry.unfollow();
    for (const p of this.#pending.values()) {
      this.#registry.store.unhold();
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.#pending.clear();
    void worker?.terminate();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop(new Error('the metrics export thread was closed'));
  }
}

/** Buffers that came from an export thread, to go back to it once sent. */
const THREAD_CHUNKS = new WeakSet<ArrayBuffer>();
