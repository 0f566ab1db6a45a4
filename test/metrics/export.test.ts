// The exporters: the flat JSON and the Prometheus text, written whole or a slice at a time,
// agree with each other and with the registry.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { flatJson, flatJsonYielding, HistogramWindow, MetricsRegistry, prometheusText, prometheusTextYielding, RequestStats } from '../../src/metrics/index.ts';

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
  test('the yielding exporters write what the whole ones write, across many slices', async () => {
    const r = big();
    assert.ok(r.size > 5000);
    const json = flatJson(r);
    assert.equal(await flatJsonYielding(r), json);
    assert.equal(await prometheusTextYielding(r, 'l5d_'), prometheusText(r, 'l5d_'));
    assert.deepEqual(JSON.parse(json), r.flat());
    assert.equal(await flatJsonYielding(r, 'rt/http/client/#/io.l5d.fs/s3'), flatJson(r, 'rt/http/client/#/io.l5d.fs/s3'));
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
    await flatJsonYielding(r);
    await prometheusTextYielding(r);
    clearInterval(t);
    assert.ok(turns >= 2, `${turns} timer turns during the export`);
  });

  test('a name added or removed changes the next export; names print escaped', () => {
    const r = new MetricsRegistry({ window: new HistogramWindow(60_000, 6, false) });
    r.counter('a/"quoted"\\name').incr(2);
    assert.equal(JSON.parse(flatJson(r))['a/"quoted"\\name'], 2);
    r.counter('b').incr();
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
