// The exporters: the flat JSON and the Prometheus text, written whole or a slice at a time,
// agree with each other and with the registry.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ByteSink } from '../../src/metrics/bytes.ts';
import { flatJson, HistogramWindow, MetricsRegistry, prometheusText, RequestStats, streamFlatJson, streamPrometheus } from '../../src/metrics/index.ts';

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
    let turns = 0;
    const t = setInterval(() => turns++, 0);
    await text((o) => streamFlatJson(r, undefined, o));
    await text((o) => streamPrometheus(r, '', o));
    clearInterval(t);
    assert.ok(turns >= 2, `${turns} timer turns during the export`);
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

describe('histogram text kept between exports', () => {
  test('an unchanged histogram is written as before; a new value or the window moving shows at once', async () => {
    const w = new HistogramWindow(60_000, 6, false);
    const r = new MetricsRegistry({ window: w });
    r.counter('a/requests').incr();
    const h = r.histogram('a/request_latency_ms');
    const idle = r.histogram('b/request_latency_ms');
    idle.add(3);
    h.add(5);
    const fresh = (): { json: string; prom: string } => {
      // What an exporter with nothing kept writes.
      for (const m of r.ordered()) {
        m.cache.jsonText = undefined;
        m.cache.promText = undefined;
      }
      return { json: flatJson(r), prom: prometheusText(r) };
    };
    const both = async (): Promise<{ json: string; prom: string }> => ({ json: await text((o) => streamFlatJson(r, undefined, o)), prom: await text((o) => streamPrometheus(r, '', o)) });
    const first = await both();
    assert.deepEqual(await both(), first);
    h.add(500);
    const second = await both();
    assert.notDeepEqual(second, first);
    assert.equal(JSON.parse(second.json)['a/request_latency_ms.max'], 500);
    assert.deepEqual(second, fresh());
    w.advance(6);
    const third = await both();
    assert.equal(JSON.parse(third.json)['a/request_latency_ms.count'], 0);
    assert.equal(JSON.parse(third.json)['b/request_latency_ms.count'], 0);
    assert.deepEqual(third, fresh());
    r.close();
  });
});
