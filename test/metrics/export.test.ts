// The exporters: the flat JSON and the Prometheus text, written whole or a slice at a time,
// agree with each other and with the registry.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ByteSink } from '../../src/metrics/bytes.ts';
import type { Counter } from '../../src/metrics/counter.ts';
import type { Histogram } from '../../src/metrics/histogram.ts';
import { flatJson, HistogramWindow, MetricsRegistry, prometheusText, RequestStats, streamFlatJson, streamPrometheus } from '../../src/metrics/index.ts';
import { writeFlatJson } from '../../src/metrics/json.ts';

/** What a streaming exporter writes, as text. */
async function text(run: (out: (c: Buffer) => void) => Promise<void>): Promise<string> {
  const chunks: Buffer[] = [];
  await run((c) => chunks.push(c));
  return Buffer.concat(chunks).toString('utf8');
}

function big(): MetricsRegistry {
  const r = new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false) });
  for (let i = 0; i < 1500; i++) {
    const scope = `rt/http/client/#/io.l5d.fs/s${i}`;
    r.labelScope(scope, 'client', `#/io.l5d.fs/s${i}`);
    const s = new RequestStats(r, scope);
    if (i % 3 === 0) s.record(i % 2 === 0, i);
    r.gauge(`${scope}/loadbalancer/size`, () => i);
  }
  return r;
}

describe('metrics export', () => {
  test('the streaming exporters write what the whole ones write, across many slices', async () => {
    const r = big();
    assert.ok(r.size > 5000);
    const json = flatJson(r);
    assert.equal(await text((o) => streamFlatJson(r, undefined, o)), json);
    assert.equal(await text((o) => streamPrometheus(r, 'l5d_', o)), prometheusText(r, 'l5d_'));
    assert.deepEqual(JSON.parse(json), r.flat());
    assert.equal(await text((o) => streamFlatJson(r, 'rt/http/client/#/io.l5d.fs/s3', o)), flatJson(r, 'rt/http/client/#/io.l5d.fs/s3'));
    assert.equal(await text((o) => streamFlatJson(r, 'no/such/scope', o)), '{}');
    const sub = JSON.parse(flatJson(r, 'rt/http/client/#/io.l5d.fs/s3')) as Record<string, number>;
    assert.equal(sub['rt/http/client/#/io.l5d.fs/s3/requests'], 1);
    assert.equal(sub['rt/http/client/#/io.l5d.fs/s3/request_latency_ms.max'], 3);
    // s30 and s300 share the prefix s3 but are not under it.
    assert.ok(Object.keys(sub).every((k) => k.startsWith('rt/http/client/#/io.l5d.fs/s3/')));
  });

  test('requests are served between the slices of a large export', async () => {
    const r = big();
    // Something else waiting on the event loop, each turn: it runs between the slices.
    let turns = 0;
    let done = false;
    const other = (): void => {
      turns++;
      if (!done) setImmediate(other);
    };
    setImmediate(other);
    const metrics = r.size;
    await text((o) => streamFlatJson(r, undefined, o));
    await text((o) => streamPrometheus(r, '', o));
    done = true;
    // Both exports, 100 metrics a turn.
    assert.ok(turns >= (2 * metrics) / 100 - 2, `${turns} turns of the event loop during two exports of ${metrics} metrics`);
  });

  test('a name added or removed changes the next export; names print escaped', () => {
    const r = new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false) });
    r.counter('a/"quoted"\\name').incr(2);
    assert.equal(JSON.parse(flatJson(r))['a/"quoted"\\name'], 2);
    r.counter('b').incr();
    const empty = new MetricsRegistry({ maxMetrics: 0 });
    assert.equal(flatJson(empty), '{}');
    assert.equal(JSON.parse(flatJson(r))['b'], 1);
    r.removeScope('a');
    assert.equal(JSON.parse(flatJson(r))['a/"quoted"\\name'], undefined);
    assert.match(prometheusText(r), /^b 1$/m);
  });
});

describe('labelled scopes', () => {
  test('a service scope inside a client scope: both ids whole in the tree, both labels in Prometheus', () => {
    const r = new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false) });
    const client = 'rt/out/client/#/io.l5d.fs/web';
    r.labelScope(client, 'client', '#/io.l5d.fs/web');
    r.labelScope(`${client}/service/svc/web`, 'service', 'svc/web');
    r.counter(`${client}/service/svc/web/requests`).incr(4);
    r.counter(`${client}/requests`).incr(5);
    r.counter('rt/out/bindcache/path/misses').incr();
    const tree = r.tree() as { rt: { out: { client: Record<string, { service: Record<string, { requests: { counter: number } }> }> } } };
    assert.equal(tree.rt.out.client['#/io.l5d.fs/web']!.service['svc/web']!.requests.counter, 4);
    const text = prometheusText(r);
    assert.match(text, /^rt:client:service:requests\{rt="out", client="#\/io\.l5d\.fs\/web", service="svc\/web"\} 4$/m);
    assert.match(text, /^rt:client:requests\{rt="out", client="#\/io\.l5d\.fs\/web"\} 5$/m);
    assert.match(text, /^rt:bindcache:path:misses\{rt="out"\} 1$/m);
  });
});

describe('export bytes', () => {
  test('numbers are written as JavaScript prints them, and what is not finite as 0', () => {
    const values = [0, 1, 9, 10, 99, 100, 12345, 2147483647, 2147483648, 1e15, 1e21, -0, -5, 0.5, 20.2, 1 / 3, 123456789012, Number.NaN, Infinity, -Infinity];
    for (const v of values) {
      const sink = new ByteSink();
      sink.num(v);
      assert.equal(Buffer.concat(sink.finish()).toString(), Number.isFinite(v) ? String(v) : '0', String(v));
    }
  });

  test('chunks fill and roll over without losing a byte', () => {
    const sink = new ByteSink();
    const name = Buffer.from('é/naïve/métrique ');
    let want = '';
    for (let i = 0; i < 20_000; i++) {
      sink.bytes(name);
      sink.num(i);
      want += `${name.toString()}${i}`;
    }
    const chunks = sink.finish();
    assert.ok(chunks.length > 1);
    assert.equal(Buffer.concat(chunks).toString(), want);
  });
});

describe('text kept between exports', () => {
  /** A tree of counters, gauges and histograms, some in labelled scopes, that a round changes in part. */
  function churn(seed: number) {
    const w = new HistogramWindow(60_000, 6, false);
    const r = new MetricsRegistry({ window: w });
    let x = seed;
    const rand = (n: number): number => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x % n;
    };
    const gauges = new Map<string, number>();
    const counters: Counter[] = [];
    const histograms: Histogram[] = [];
    const add = (i: number): void => {
      const scope = `rt/http/client/#/io.l5d.fs/s${i}`;
      r.labelScope(scope, 'client', `#/io.l5d.fs/s${i}`);
      counters.push(r.counter(`${scope}/requests`), r.counter(`${scope}/failures`));
      histograms.push(r.histogram(`${scope}/request_latency_ms`));
      const g = `${scope}/loadbalancer/size`;
      gauges.set(g, i % 4);
      r.gauge(g, () => gauges.get(g) ?? 0);
    };
    for (let i = 0; i < 300; i++) add(i);
    let next = 300;
    let tail = 0;
    const round = (): void => {
      // The first metric goes (and another comes, so the count of metrics, the next one's value,
      // stays): the text the next one had, with its comma, must not be copied to the front.
      if (rand(4) === 0) {
        if (r.get('a/first') === undefined) r.counter('a/first');
        else {
          r.drop('a/first');
          r.counter(`z/${tail++}`);
        }
        return;
      }
      for (let k = rand(40); k > 0; k--) counters[rand(counters.length)]!.incr(rand(3));
      for (let k = rand(20); k > 0; k--) histograms[rand(histograms.length)]!.add(rand(2000) / 7);
      for (let k = rand(10); k > 0; k--) {
        const names = [...gauges.keys()];
        gauges.set(names[rand(names.length)]!, rand(5));
      }
      if (rand(3) === 0) w.advance(1 + rand(3));
      if (rand(3) === 0) r.removeScope(`rt/http/client/#/io.l5d.fs/s${rand(next)}`);
      if (rand(2) === 0) add(next++);
    };
    return { r, round };
  }

  test('exports that copy the unchanged text from the last one write what a fresh export writes, round after round', async () => {
    const { r, round } = churn(7);
    for (let i = 0; i < 40; i++) {
      const prefix = i < 20 ? '' : 'l5d_';
      const json = await text((o) => streamFlatJson(r, undefined, o));
      const prom = await text((o) => streamPrometheus(r, prefix, o));
      assert.equal(json, flatJson(r), `metrics.json, round ${i}`);
      assert.equal(prom, prometheusText(r, prefix), `prometheus, round ${i}`);
      // In one go, as the export thread writes.
      const chunks: Buffer[] = [];
      writeFlatJson(r, undefined, (c) => chunks.push(Buffer.from(c)));
      assert.equal(Buffer.concat(chunks).toString(), flatJson(r), `metrics.json in one go, round ${i}`);
      // A scope is written whole, and leaves the full text to copy from as it was.
      assert.equal(await text((o) => streamFlatJson(r, 'rt/http/client', o)), flatJson(r, 'rt/http/client'));
      round();
    }
    r.close();
  });

  test('an unchanged tree is copied; a new value or the window moving shows at once', async () => {
    const w = new HistogramWindow(60_000, 6, false);
    const r = new MetricsRegistry({ window: w });
    const h = r.histogram('a/request_latency_ms');
    r.histogram('b/request_latency_ms').add(3);
    h.add(5);
    const json = () => text((o) => streamFlatJson(r, undefined, o));
    const first = await json();
    assert.equal(await json(), first);
    h.add(500);
    const second = await json();
    assert.equal(JSON.parse(second)['a/request_latency_ms.max'], 500);
    assert.equal(second, flatJson(r));
    w.advance(6);
    const third = JSON.parse(await json());
    assert.equal(third['a/request_latency_ms.count'], 0);
    assert.equal(third['b/request_latency_ms.count'], 0);
    r.close();
  });

  test('a metric that takes the memory of a pruned one is written under its own name, not copied', async () => {
    const r = new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false) });
    for (const n of ['a/1', 'a/2', 'a/3/requests', 'a/4']) r.counter(n);
    r.histogram('h/old/latency');
    const json = () => text((o) => streamFlatJson(r, undefined, o));
    const prom = () => text((o) => streamPrometheus(r, '', o));
    await json();
    await prom();
    // Same values as the ones that left (0, and a histogram with nothing recorded), in their slots.
    r.removeScope('a/3');
    r.removeScope('h/old');
    r.counter('b/new');
    r.histogram('h/new');
    assert.equal(await json(), flatJson(r));
    assert.equal(await prom(), prometheusText(r));
    assert.match(flatJson(r), /"b\/new":0/);
    r.close();
  });

  test('a metric pruned while an export is under way is written with its own value, its memory not yet given to another', async () => {
    const r = new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false) });
    for (let i = 0; i < 1000; i++) r.counter(`c/${String(i).padStart(4, '0')}/requests`).incr(i + 1);
    const before = flatJson(r);
    await text((o) => streamFlatJson(r, undefined, o));
    const chunks: Buffer[] = [];
    const under = streamFlatJson(r, undefined, (c) => chunks.push(c));
    // The export lets the event loop go between slices: the last counter is pruned, and a new
    // metric comes meanwhile.
    await new Promise((resolve) => setImmediate(resolve));
    r.removeScope('c/0999');
    r.counter('z/new').incr(123_456);
    await under;
    assert.equal(Buffer.concat(chunks).toString(), before);
    assert.equal(await text((o) => streamFlatJson(r, undefined, o)), flatJson(r));
    r.close();
  });

  test('a histogram read while a value is being added is written again at the next export, not copied', () => {
    const r = new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false) });
    r.counter('a').incr();
    const h = r.histogram('h');
    h.add(5);
    const inOneGo = (): string => {
      const chunks: Buffer[] = [];
      writeFlatJson(r, undefined, (c) => chunks.push(c));
      return Buffer.concat(chunks).toString();
    };
    inOneGo();
    // Another thread's read lands inside an add: the stamp has moved, the numbers not yet.
    const handle = r.store.read(r.get('h')!.slot);
    const f = r.store.blockFloats(handle - 1)!;
    const stamp = r.store.blockFloatOffset(handle - 1) + 1;
    f[stamp]!++;
    const torn = inOneGo();
    f[stamp]!--;
    // The add completes: the stamp is the one the torn read saw.
    h.add(7);
    assert.notEqual(torn, flatJson(r));
    assert.equal(inOneGo(), flatJson(r));
    assert.equal(inOneGo(), flatJson(r));
    r.close();
  });

  test('two exports at once each write the whole text; the next copies again', async () => {
    const { r, round } = churn(11);
    await text((o) => streamPrometheus(r, '', o));
    round();
    const [a, b] = await Promise.all([text((o) => streamPrometheus(r, '', o)), text((o) => streamPrometheus(r, '', o))]);
    assert.equal(a, prometheusText(r));
    assert.equal(b, a);
    round();
    assert.equal(await text((o) => streamPrometheus(r, '', o)), prometheusText(r));
    r.close();
  });

  test('an export that fails part way leaves the text before it to copy from', async () => {
    const { r, round } = churn(13);
    for (let i = 0; i < 8; i++) {
      const chunks: Buffer[] = [];
      await streamFlatJson(r, undefined, (c) => chunks.push(c));
      round();
      // Failing at each chunk in turn, the last one too, after places have moved in a text
      // that is then thrown away.
      let n = 0;
      await assert.rejects(
        streamFlatJson(r, undefined, () => {
          if (++n === 1 + (i % chunks.length)) throw new Error('client gone');
        }),
        /client gone/,
      );
      round();
      assert.equal(await text((o) => streamFlatJson(r, undefined, o)), flatJson(r), `round ${i}`);
    }
    r.close();
  });

  test('a page sink hands out copies of what it holds, across chunk boundaries and long copies', () => {
    const chunks: Buffer[] = [];
    const sink = new ByteSink((c) => chunks.push(Buffer.from(c)), Buffer.alloc(10));
    const src = Buffer.from('x'.repeat(200_000));
    let want = '';
    for (let i = 0; i < 5_000; i++) {
      sink.bytes(Buffer.from(`,"k${i}":`));
      sink.num(i / 3);
      want += `,"k${i}":${i / 3}`;
      if (i % 1000 === 0) {
        sink.copy(src, 0, 100_000 + i);
        want += 'x'.repeat(100_000 + i);
      }
    }
    sink.finish();
    assert.equal(Buffer.concat(chunks).toString(), want);
    assert.equal(sink.page.subarray(0, sink.position).toString(), want);
    assert.ok(chunks.every((c) => c.length <= 64 * 1024));
  });
});
