// Scrapes written by the export thread: byte for byte what the event loop writes, as metrics
// come and go, as slices leave the window, with late records on pruned handles, with exports
// at once, and when the thread cannot run.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { ExportThread, type ExportThreadOptions, flatJson, HistogramWindow, MetricsRegistry, prometheusText, RequestStats } from '../../src/metrics/index.ts';
import { MetricStore } from '../../src/metrics/store.ts';

function registry(): MetricsRegistry {
  return new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false) });
}

/** Clients with stats, a gauge and awkward ids. */
function fill(r: MetricsRegistry, n: number, from = 0): void {
  for (let i = from; i < from + n; i++) {
    const id = i % 7 === 0 ? `#/io.l5d.fs/we"b\\${i}` : i % 11 === 0 ? `#/io.l5d.fs/__proto__/${i}` : `#/io.l5d.fs/s${i}`;
    const scope = `rt/http/client/${id}`;
    r.labelScope(scope, 'client', id);
    const s = new RequestStats(r, scope);
    for (let k = 0; k < i % 5; k++) s.record(k % 2 === 0, i + k);
    r.gauge(`${scope}/loadbalancer/size`, () => i * 3);
  }
}

/** Modules that stand in for the thread's, in a folder removed after the tests. */
const modules = mkdtempSync(join(tmpdir(), 'dtabd-export-thread-'));
after(() => rmSync(modules, { recursive: true, force: true }));

function workerModule(name: string, source: string): URL {
  const file = join(modules, name);
  writeFileSync(file, source);
  return pathToFileURL(file);
}

/** A registry and a thread over it (started at its first export), both closed after `body`. */
async function withThread(options: ExportThreadOptions, body: (r: MetricsRegistry, ex: ExportThread) => Promise<void>): Promise<void> {
  const r = registry();
  const ex = new ExportThread(r, options);
  try {
    await body(r, ex);
  } finally {
    ex.close();
    r.close();
  }
}

/**
 * What `ex` writes, as text, each chunk given back as a response would. Written by the thread
 * when `ex` says it is threaded, on the event loop when not: checked, unless `where` is false
 * (a thread failing part way).
 */
async function scrape(ex: ExportThread, run: (ex: ExportThread, out: (c: Buffer) => void) => Promise<void>, where = true): Promise<string> {
  const [threaded, before] = [ex.threaded, ex.written];
  const chunks: Buffer[] = [];
  await run(ex, (c) => {
    chunks.push(Buffer.from(c));
    ex.release(c);
  });
  if (where) assert.equal(ex.written - before, threaded ? 1 : 0, threaded ? 'not written by the thread' : 'written by the thread');
  return Buffer.concat(chunks).toString('utf8');
}

const json = (under?: string) => (ex: ExportThread, out: (c: Buffer) => void) => ex.json(under, out);
const prom = (prefix = '') => (ex: ExportThread, out: (c: Buffer) => void) => ex.prometheus(prefix, out);

describe('the metrics export thread', () => {
  test('writes what the event loop writes, whole and under a scope, in JSON and Prometheus text', async () => {
    await withThread({ minMetrics: 0 }, async (r, ex) => {
      fill(r, 2000);
      assert.equal(await scrape(ex, json()), flatJson(r));
      assert.ok(ex.threaded);
      assert.equal(await scrape(ex, prom('l5d_')), prometheusText(r, 'l5d_'));
      assert.equal(await scrape(ex, json('rt/http/client/#/io.l5d.fs/s3')), flatJson(r, 'rt/http/client/#/io.l5d.fs/s3'));
      assert.equal(await scrape(ex, json('no/such/scope')), '{}');
      assert.deepEqual(JSON.parse(await scrape(ex, json())), r.flat());
    });
  });

  test('follows metrics that come, go and change after it started, and slices that leave the window', async () => {
    await withThread({ minMetrics: 0 }, async (r, ex) => {
      fill(r, 300);
      await scrape(ex, json());
      fill(r, 300, 300);
      r.removeScope('rt/http/client/#/io.l5d.fs/s5');
      r.removeScope('rt/http/client/#/io.l5d.fs/__proto__/11');
      r.counter('rt/http/client/#/io.l5d.fs/s8/requests').incr(40);
      r.histogram('rt/http/client/#/io.l5d.fs/s9/request_latency_ms').add(1234);
      // A gauge made again under its old name reads the new function.
      r.gauge('rt/http/client/#/io.l5d.fs/s2/loadbalancer/size', () => 77);
      assert.equal(await scrape(ex, json()), flatJson(r));
      assert.equal(await scrape(ex, prom()), prometheusText(r));
      const flat = JSON.parse(await scrape(ex, json())) as Record<string, number>;
      assert.equal(flat['rt/http/client/#/io.l5d.fs/s2/loadbalancer/size'], 77);
      assert.equal(flat['rt/http/client/#/io.l5d.fs/s5/requests'], undefined);
      // Three slices leave the window: no histogram has recorded since, so none has cleared them.
      r.window.advance(3);
      assert.equal(await scrape(ex, json()), flatJson(r));
      r.window.advance(10);
      const idle = JSON.parse(await scrape(ex, json())) as Record<string, number>;
      assert.equal(idle['rt/http/client/#/io.l5d.fs/s9/request_latency_ms.count'], 0);
      assert.equal(await scrape(ex, prom()), prometheusText(r));
    });
  });

  test('a pruned handle that records late changes no metric that took its memory', async () => {
    await withThread({ minMetrics: 0 }, async (r, ex) => {
      const old = new RequestStats(r, 'rt/http/client/old');
      old.record(true, 5);
      await scrape(ex, json());
      r.removeScope('rt/http/client/old');
      // The new client takes the old one's slots and block.
      const fresh = new RequestStats(r, 'rt/http/client/new');
      old.record(false, 9);
      old.requests.incr(100);
      assert.equal(old.requests.value, 102);
      assert.equal(old.latency.count, 2);
      const flat = JSON.parse(await scrape(ex, json())) as Record<string, number>;
      assert.equal(flat['rt/http/client/new/requests'], 0);
      assert.equal(flat['rt/http/client/new/failures'], 0);
      assert.equal(flat['rt/http/client/new/request_latency_ms.count'], 0);
      fresh.record(true, 3);
      assert.equal(await scrape(ex, json()), flatJson(r));
    });
  });

  test('gauges set by their owners and sums of cells are printed by the thread, with nothing read on the event loop', async () => {
    await withThread({ minMetrics: 0 }, async (r, ex) => {
      const called = r.calledGauges;
      const size = r.setGauge('rt/http/client/a/loadbalancer/size');
      const load = r.sumGauge('rt/http/client/a/loadbalancer/load');
      const shared = r.sumGauge('rt/http/client/b/loadbalancer/load');
      const [e1, e2, e3] = [r.cell(), r.cell(), r.cell()];
      assert.equal(r.calledGauges, called, 'none of them is called at a scrape');
      size.set(2);
      e1.set(3);
      e2.set(4);
      e3.set(100);
      load.over([e1, e2]);
      shared.over([e2]);
      let flat = JSON.parse(await scrape(ex, json())) as Record<string, number>;
      assert.equal(flat['rt/http/client/a/loadbalancer/size'], 2);
      assert.equal(flat['rt/http/client/a/loadbalancer/load'], 7);
      assert.equal(flat['rt/http/client/b/loadbalancer/load'], 4);
      // Values change in place; the parts change.
      e2.add(1);
      load.over([e2, e3]);
      assert.equal(await scrape(ex, json()), flatJson(r));
      assert.equal(await scrape(ex, prom()), prometheusText(r));
      flat = JSON.parse(await scrape(ex, json())) as Record<string, number>;
      assert.equal(flat['rt/http/client/a/loadbalancer/load'], 105);
      // A cell leaves every sum, then its slot goes to a new counter: the sums do not see it.
      load.over([e2]);
      r.freeCell(e3);
      e3.set(999);
      r.counter('rt/http/client/c/requests').incr(50);
      flat = JSON.parse(await scrape(ex, json())) as Record<string, number>;
      assert.equal(flat['rt/http/client/a/loadbalancer/load'], 5);
      assert.equal(flat['rt/http/client/c/requests'], 50);
      // A pruned gauge set late writes over nothing; its name made again is a new gauge.
      r.removeScope('rt/http/client/a');
      const taken = r.counter('rt/http/client/d/requests');
      size.set(77);
      load.over([e1]);
      assert.equal(size.value, 77);
      flat = JSON.parse(await scrape(ex, json())) as Record<string, number>;
      assert.equal(flat['rt/http/client/d/requests'], taken.value);
      assert.equal(flat['rt/http/client/a/loadbalancer/size'], undefined);
      assert.equal(await scrape(ex, json()), flatJson(r));
    });
  });

  test('scrapes that come together read the gauges once, unless gauges came or went meanwhile', async () => {
    const r = registry();
    let reads = 0;
    let value = 1;
    r.gauge('rt/http/client/a/pool_size', () => (reads++, value));
    const publish = () => r.publishGauges(10, async () => {}, 100);
    await publish();
    assert.equal(reads, 1);
    value = 2;
    // Within 100 ms of the last read, the same gauges: what it wrote stands.
    await publish();
    assert.equal(reads, 1);
    // A gauge made meanwhile: every gauge is read again, the new one too.
    r.gauge('rt/http/client/b/pool_size', () => (reads++, 7));
    await publish();
    assert.equal(reads, 3);
    // One gone: read again.
    r.removeScope('rt/http/client/b');
    await publish();
    assert.equal(reads, 4);
    // Older than 100 ms: read again.
    await new Promise((res) => setTimeout(res, 120));
    await publish();
    assert.equal(reads, 5);
    // Without a maximum age, always.
    await r.publishGauges(10, async () => {});
    assert.equal(reads, 6);
    r.close();
  });

  test('a gauge pruned while the gauges are being read is not written over the metric that took its slot', async () => {
    const r = registry();
    r.gauge('rt/http/client/a/pool_size', () => 5);
    r.gauge('rt/http/client/b/pool_size', () => 7);
    let c: ReturnType<MetricsRegistry['counter']> | undefined;
    await r.publishGauges(1, async () => {
      if (c !== undefined) return;
      // Between two slices: b's gauge leaves, and a counter takes its slot.
      r.removeScope('rt/http/client/b');
      c = r.counter('rt/http/client/c/requests');
      c.incr(3);
    });
    assert.equal(c?.value, 3);
    assert.equal(r.flat()['rt/http/client/c/requests'], 3);
    r.close();
  });

  test('a gauge made while the gauges are being read is written before the thread prints it', async () => {
    await withThread({ minMetrics: 0 }, async (r, ex) => {
      for (let i = 0; i < 800; i++) r.gauge(`g/${i}`, () => 5);
      await scrape(ex, json());
      // Past the 100 ms in which a read of the gauges stands for the next scrapes: this one reads.
      await new Promise((res) => setTimeout(res, 150));
      const pending = scrape(ex, json());
      // During the reading of the gauges (250 per turn): one new, one made again under its name.
      setImmediate(() => {
        r.gauge('rt/x/client/new/loadbalancer/size', () => 42);
        r.gauge('g/1', () => 99);
      });
      const got = JSON.parse(await pending) as Record<string, number>;
      assert.equal(got['rt/x/client/new/loadbalancer/size'], 42);
      assert.equal(got['g/1'], 99);
    });
  });

  test('a thread that stops answering is given up after the timeout; scrapes go on on the event loop', async () => {
    const silent = workerModule('silent.mjs', "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => {});\n");
    const failures: string[] = [];
    await withThread({ minMetrics: 0, workerFile: silent, timeoutMs: 300, onFailure: (e) => failures.push(e.message) }, async (r, ex) => {
      fill(r, 20);
      await assert.rejects(scrape(ex, json()), /made no progress on a scrape for 300 ms/);
      assert.equal(failures.length, 1);
      assert.equal(ex.threaded, false);
      assert.equal(await scrape(ex, json()), flatJson(r));
      // Nothing is held for the dead thread: freed memory is given out again.
      const slot = r.store.slot();
      r.store.release(slot);
      assert.equal(r.store.slot(), slot);
    });
  });

  test('a slow thread that keeps handing over chunks is not given up: the timeout is on progress', async () => {
    // A stand-in that answers each export with a chunk every 100 ms, five in all (500 ms), as a
    // thread under the idle policy does on a busy machine; the timeout is 300 ms.
    const slow = workerModule(
      'slow.mjs',
      `import { parentPort } from 'node:worker_threads';
// One export at a time, as the thread writes them: the next waits for the one before.
const queue = [];
const next = () => {
  const m = queue[0];
  if (m === undefined) return;
  let n = 0;
  const timer = setInterval(() => {
    const ab = new ArrayBuffer(4);
    new Uint8Array(ab).set([0x61 + n, 0x61 + n, 0x61 + n, 0x0a]);
    parentPort.postMessage({ type: 'chunks', id: m.id, buffers: [ab], lengths: [4] }, [ab]);
    if (++n === 5) {
      clearInterval(timer);
      parentPort.postMessage({ type: 'done', id: m.id });
      queue.shift();
      next();
    }
  }, 100);
};
parentPort.on('message', (m) => {
  if (m.type !== 'export') return;
  queue.push(m);
  if (queue.length === 1) next();
});
`,
    );
    const failures: string[] = [];
    await withThread({ minMetrics: 0, workerFile: slow, timeoutMs: 300, onFailure: (e) => failures.push(e.message) }, async (r, ex) => {
      fill(r, 20);
      const t0 = performance.now();
      assert.equal(await scrape(ex, json()), 'aaa\nbbb\nccc\nddd\neee\n');
      assert.ok(performance.now() - t0 >= 400);
      assert.deepEqual(failures, []);
      assert.equal(ex.threaded, true);
      // Two at once: the second waits 500 ms behind the first, which makes progress all along.
      const both = await Promise.all([scrape(ex, json(), false), scrape(ex, json(), false)]);
      assert.equal(ex.written, 3);
      assert.deepEqual(both, ['aaa\nbbb\nccc\nddd\neee\n', 'aaa\nbbb\nccc\nddd\neee\n']);
      assert.deepEqual(failures, []);
      assert.equal(ex.threaded, true);
    });
  });

  test('memory freed while an export reads is not given out until it is done', () => {
    const store = new MetricStore(6, 10);
    const a = store.slot();
    const b = store.block();
    store.hold();
    store.release(a);
    store.releaseBlock(b);
    assert.notEqual(store.slot(), a);
    assert.notEqual(store.block(), b);
    store.unhold();
    assert.equal(store.slot(), a);
    assert.equal(store.block(), b);
  });

  test('exports asked for at once each get their own text', async () => {
    await withThread({ minMetrics: 0 }, async (r, ex) => {
      fill(r, 1500);
      const before = ex.written;
      const [j1, p1, j2, p2] = await Promise.all([scrape(ex, json(), false), scrape(ex, prom(), false), scrape(ex, json('rt/http/client/#/io.l5d.fs/s1'), false), scrape(ex, prom('x_'), false)]);
      assert.equal(ex.written - before, 4);
      assert.equal(j1, flatJson(r));
      assert.equal(p1, prometheusText(r));
      assert.equal(j2, flatJson(r, 'rt/http/client/#/io.l5d.fs/s1'));
      assert.equal(p2, prometheusText(r, 'x_'));
    });
  });

  test('a small tree is written on the event loop; a large one in the thread', async () => {
    let closed: ExportThread | undefined;
    await withThread({ minMetrics: 1000 }, async (r, ex) => {
      closed = ex;
      fill(r, 10);
      assert.equal(ex.threaded, false);
      assert.equal(await scrape(ex, json()), flatJson(r));
      fill(r, 300, 10);
      assert.equal(ex.threaded, true);
      assert.equal(await scrape(ex, prom()), prometheusText(r));
    });
    assert.equal(closed?.threaded, false);
  });

  test('the thread runs below routing: nice 19 and the idle scheduling policy', async () => {
    await withThread({ minMetrics: 0 }, async (r, ex) => {
      fill(r, 10);
      await scrape(ex, json());
      assert.equal(ex.written, 1);
      const threads: Record<string, { nice: number; policy: number }> = {};
      for (const t of readdirSync('/proc/self/task')) {
        const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
        const comm = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
        // Fields after the command's closing parenthesis: nice is the 17th, the policy the 39th.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        threads[comm] = { nice: Number(fields[16]), policy: Number(fields[38]) };
      }
      const thread = Object.entries(threads).find(([comm]) => comm.startsWith('dtabd metrics'));
      assert.ok(thread !== undefined, `threads: ${JSON.stringify(threads)}`);
      // SCHED_IDLE is policy 5; the event loop stays SCHED_OTHER (0) at nice 0.
      assert.deepEqual(thread[1], { nice: 19, policy: 5 });
      assert.deepEqual(threads['MainThread'] ?? threads['node'], { nice: 0, policy: 0 });
    });
  });

  test('when the thread cannot run, exports are written on the event loop and the failure is told', async () => {
    const broken = workerModule('broken.mjs', 'throw new Error("this thread cannot start");\n');
    const failures: string[] = [];
    await withThread({ minMetrics: 0, workerFile: broken, onFailure: (e) => failures.push(e.message) }, async (r, ex) => {
      fill(r, 50);
      // The first export may be cut off by the failure; the next ones are whole.
      await scrape(ex, json(), false).catch(() => '');
      for (let i = 0; i < 50 && ex.failure === undefined; i++) await new Promise((res) => setTimeout(res, 20));
      assert.match(String(ex.failure?.message), /cannot start/);
      assert.equal(failures.length, 1);
      assert.equal(ex.threaded, false);
      assert.equal(await scrape(ex, json()), flatJson(r));
      assert.equal(await scrape(ex, prom()), prometheusText(r));
    });
  });
});
