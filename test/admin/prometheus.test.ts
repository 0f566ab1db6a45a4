// The Prometheus text read by Prometheus's own parser (the Debian python3-prometheus-client,
// text_string_to_metric_families) after real traffic through several routers, servers,
// services and clients with awkward ids, and checked against linkerd's mapping (spec §9) and
// against /admin/metrics.json read at the same moment.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Disco, type RunningDaemon, send, startDaemon, type Upstream, upstream } from '../support/proxy.ts';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

const PARSE = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append({"name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
`;

/** The samples of `text` as Prometheus's reference parser reads them; throws what it throws. */
function parse(text: string): Sample[] {
  // /usr/bin/python3: the Debian interpreter that has the Debian package (not a pyenv shim).
  const r = spawnSync('/usr/bin/python3', ['-c', PARSE], { input: text, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`prometheus_client refused the text: ${r.stderr}`);
  return JSON.parse(r.stdout) as Sample[];
}

const key = (name: string, labels: Record<string, string>): string =>
  `${name}{${Object.entries(labels)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;

const QUANTILES = ['0', '0.5', '0.9', '0.95', '0.99', '0.999', '0.9999', '1'];

describe('Prometheus text through the reference parser', () => {
  const disco = new Disco();
  let web: Upstream;
  let d: RunningDaemon;
  /** Requests sent per (router, host). */
  const sent: [string, string, number][] = [
    ['edge', 'web', 5],
    ['edge', 'web-2', 3],
    ['edge', 'api.v1', 2],
    ['edge', 'we"b', 1],
    ['edge', 'we\\b', 1],
    ['edge', 'api', 2],
    ['edge', 'inet', 2],
    ['edge', 'nofile', 2],
    ['edge', 'web:8080', 1],
    ['int-2', 'web', 2],
    ['int-2', 'split', 8],
    ['q"uo\\te', 'web', 3],
  ];
  let edgePorts: number[] = [];

  const prom = async (): Promise<string> => {
    const written = d.daemon.admin.exporter.written;
    const r = await send(d.adminPort, { path: '/admin/metrics/prometheus' });
    assert.equal(r.status, 200);
    // Prometheus's own parser reads what the export thread wrote.
    assert.equal(d.daemon.admin.exporter.written, written + 1);
    assert.equal(d.daemon.admin.exporter.failure, undefined);
    return r.body;
  };

  before(async () => {
    web = await upstream('web');
    for (const f of ['web', 'web-2', 'api.v1', 'we"b', 'we\\b']) writeFileSync(join(disco.dir, f), `127.0.0.1 ${web.port}\n`);
    writeFileSync(join(disco.sub('prod'), 'api'), `127.0.0.1 ${web.port}\n`);
    // Scrapes of this daemon are written by the export thread (another below writes its own on
    // the event loop), so the reference parser reads the thread's text.
    d = await startDaemon(`admin: {ip: 127.0.0.1, port: 0, exportThreadMinMetrics: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${disco.dir}
routers:
- protocol: http
  label: edge
  dtab: |
    /svc => /#/io.l5d.fs;
    /svc/api => /#/io.l5d.fs/prod/api;
    /svc/inet => /$/inet/127.0.0.1/${web.port};
  servers: [{port: 0}, {port: 0}]
- protocol: http
  label: int-2
  dtab: |
    /svc => /#/io.l5d.fs;
    /svc/split => 1 * /#/io.l5d.fs/web & 3 * /#/io.l5d.fs/web-2;
  servers: [{port: 0}]
- protocol: http
  label: 'q"uo\\te'
  dtab: /svc => /#/io.l5d.fs
  servers: [{port: 0}]
`);
    edgePorts = [...d.daemon.servers().values()].filter((s) => s.options.label === 'edge').map((s) => s.address.port);
    assert.equal(edgePorts.length, 2);
    for (const [router, host, n] of sent) {
      for (let i = 0; i < n; i++) {
        // The edge router's traffic alternates between its two servers.
        const port = router === 'edge' ? edgePorts[i % 2]! : d.port(router);
        const r = await send(port, { headers: { host } });
        assert.equal(r.status, host === 'nofile' || host === 'web:8080' ? 502 : 200, `${router} ${host}: ${r.body}`);
      }
    }
  });
  after(async () => {
    await d.close();
    await web.close();
    disco.close();
  });

  test('the parser accepts the whole text; names are valid; no series appears twice', async () => {
    const text = await prom();
    const samples = parse(text);
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.equal(samples.length, lines.length);
    assert.ok(samples.length > 200, `${samples.length} samples`);
    const seen = new Set<string>();
    for (const s of samples) {
      assert.match(s.name, /^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
      for (const l of Object.keys(s.labels)) assert.match(l, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
      assert.ok(Number.isFinite(s.value), `${s.name} ${s.value}`);
      const k = key(s.name, s.labels);
      assert.ok(!seen.has(k), `duplicate series ${k}`);
      seen.add(k);
    }
  });

  test("linkerd's mapping: server, service (a summary with its quantiles) and client labels", async () => {
    const samples = parse(await prom());
    const find = (name: string, labels: Record<string, string>): Sample[] => samples.filter((s) => s.name === name && key(s.name, Object.fromEntries(Object.entries(s.labels).filter(([k]) => k in labels))) === key(name, labels));
    const one = (name: string, labels: Record<string, string>): number => {
      const m = samples.filter((s) => s.name === name && key(name, s.labels) === key(name, labels));
      assert.equal(m.length, 1, `${key(name, labels)}: ${m.length}`);
      return m[0]!.value;
    };
    const edgeTotal = sent.filter(([r]) => r === 'edge').reduce((a, [, , n]) => a + n, 0);
    const perServer = edgePorts.map((p) => one('rt:server:requests', { rt: 'edge', server: `127.0.0.1/${p}` }));
    assert.equal(perServer[0]! + perServer[1]!, edgeTotal);
    assert.ok(perServer[0]! > 0 && perServer[1]! > 0);
    assert.equal(one('rt:server:requests', { rt: 'int-2', server: `127.0.0.1/${d.port('int-2')}` }), 10);

    const latency = find('rt:service:request_latency_ms', { rt: 'edge', service: 'svc/web' });
    assert.deepEqual(latency.map((s) => s.labels['quantile']).sort(), [...QUANTILES].sort());
    const q = (x: string): number => latency.find((s) => s.labels['quantile'] === x)!.value;
    for (let i = 1; i < QUANTILES.length; i++) assert.ok(q(QUANTILES[i - 1]!) <= q(QUANTILES[i]!), `quantile ${QUANTILES[i]}`);
    assert.equal(one('rt:service:request_latency_ms_count', { rt: 'edge', service: 'svc/web' }), 5);
    const sum = one('rt:service:request_latency_ms_sum', { rt: 'edge', service: 'svc/web' });
    assert.ok(Math.abs(one('rt:service:request_latency_ms_avg', { rt: 'edge', service: 'svc/web' }) - sum / 5) < 1e-6);
    assert.ok(q('0') * 5 <= sum + 1e-9 && sum <= q('1') * 5 + 1e-9);

    assert.equal(one('rt:client:requests', { rt: 'edge', client: '#/io.l5d.fs/web' }), 5);
    assert.equal(one('rt:client:requests', { rt: 'int-2', client: '#/io.l5d.fs/web' }) + one('rt:client:requests', { rt: 'int-2', client: '#/io.l5d.fs/web-2' }), 10);
    assert.equal(one('rt:service:requests', { rt: 'int-2', service: 'svc/split' }), 8);
    // Awkward ids come back from the parser as the ids metrics.json shows.
    assert.equal(one('rt:service:requests', { rt: 'edge', service: 'svc/web-2' }), 3);
    assert.equal(one('rt:service:requests', { rt: 'edge', service: 'svc/api.v1' }), 2);
    assert.equal(one('rt:client:requests', { rt: 'edge', client: '#/io.l5d.fs/api.v1' }), 2);
    assert.equal(one('rt:client:requests', { rt: 'edge', client: '#/io.l5d.fs/prod/api' }), 2);
    assert.equal(one('rt:client:requests', { rt: 'edge', client: `$/inet/127.0.0.1/${web.port}` }), 2);
    const tree = JSON.parse((await send(d.adminPort, { path: '/admin/metrics.json?tree=1' })).body);
    const odd = Object.keys(tree.rt.edge.client).filter((c) => c.includes('\\'));
    assert.equal(odd.length, 2, Object.keys(tree.rt.edge.client).join(' '));
    for (const c of odd) assert.equal(one('rt:client:requests', { rt: 'edge', client: c }), 1);
    assert.equal(one('rt:server:requests', { rt: 'q"uo\\te', server: `127.0.0.1/${d.port('q"uo\\te')}` }), 3);
    assert.equal(one('rt:bindcache:path:misses', { rt: 'int-2' }), 2);
    assert.ok(one('namer:_:io_l5d_fs:lookups', {}) >= 1);
  });

  test('counters and histogram counts equal what /admin/metrics.json reports at the same moment', async () => {
    // Read both with no traffic in between (the gauges, such as uptime, move on their own).
    const tree = JSON.parse((await send(d.adminPort, { path: '/admin/metrics.json?tree=1' })).body);
    const samples = parse(await prom());
    const byKey = new Map(samples.map((s) => [key(s.name, s.labels), s.value]));
    const sanitize = (s: string): string => s.replace(/[^a-zA-Z0-9:]/g, '_');
    let checked = 0;
    const walk = (node: Record<string, any>, at: string[]): void => {
      for (const [k, v] of Object.entries(node)) {
        const path = [...at, k];
        const isCounter = 'counter' in v;
        const isStat = 'stat.count' in v;
        if (!isCounter && !isStat && !('gauge' in v)) {
          walk(v, path);
          continue;
        }
        if (!isCounter && !isStat) continue;
        let name: string;
        let labels: Record<string, string> = {};
        if (path[0] === 'rt') {
          // Each labelled scope (a client, and a service inside it) becomes a label.
          labels = { rt: path[1]! };
          const kinds: string[] = [];
          let i = 2;
          while (['server', 'service', 'client'].includes(path[i]!) && i + 1 < path.length - 1) {
            kinds.push(path[i]!);
            labels[path[i]!] = path[i + 1]!;
            i += 2;
          }
          name = sanitize(['rt', ...kinds, ...path.slice(i)].join(':'));
        } else name = sanitize(path.join(':'));
        const want = isCounter ? v.counter : v['stat.count'];
        const k2 = key(isCounter ? name : `${name}_count`, labels);
        assert.equal(byKey.get(k2), want, k2);
        checked++;
      }
    };
    walk(tree, []);
    assert.ok(checked > 100, `${checked} checked`);
  });

  test('a router labelled client, service or server keeps each id whole', async () => {
    const other = await startDaemon(`admin: {ip: 127.0.0.1, port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${disco.dir}
routers:
- {protocol: http, label: client, dtab: /svc => /#/io.l5d.fs, servers: [{port: 0}]}
- {protocol: http, label: service, dtab: /svc => /#/io.l5d.fs, servers: [{port: 0}]}
- {protocol: http, label: server, dtab: /svc => /#/io.l5d.fs, servers: [{port: 0}]}
`);
    try {
      for (const label of ['client', 'service', 'server']) assert.equal((await send(other.port(label), { headers: { host: 'web' } })).body, 'web');
      const samples = parse((await send(other.adminPort, { path: '/admin/metrics/prometheus' })).body);
      const ids = (name: string, kind: string): string[] => samples.filter((s) => s.name === name).map((s) => `${s.labels['rt']} ${s.labels[kind]}`).sort();
      assert.deepEqual(ids('rt:client:requests', 'client'), ['client #/io.l5d.fs/web', 'server #/io.l5d.fs/web', 'service #/io.l5d.fs/web']);
      assert.deepEqual(ids('rt:service:requests', 'service'), ['client svc/web', 'server svc/web', 'service svc/web']);
      assert.deepEqual(
        ids('rt:server:requests', 'server'),
        ['client', 'server', 'service'].map((l) => `${l} 127.0.0.1/${other.port(l)}`),
      );
      const tree = JSON.parse((await send(other.adminPort, { path: '/admin/metrics.json?tree=1' })).body);
      assert.deepEqual(Object.keys(tree.rt.client.client), ['#/io.l5d.fs/web']);
      assert.deepEqual(Object.keys(tree.rt.service.service), ['svc/web']);
    } finally {
      await other.close();
    }
  });
});
