// The whole-config check: linkerd's defaults, and strict refusals placed at their key and line.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigFileError, loadLinkerdConfig, parseConfigText } from '../../src/config/index.ts';
import { readPath } from '../../src/dtab/index.ts';

const ANY_CLIENT = readPath('/#/io.l5d.fs/web');
const ANY_SERVICE = readPath('/svc/web');

const resolver = async (): Promise<string[]> => ['192.0.2.1'];
const load = (text: string) => loadLinkerdConfig(parseConfigText(text, 'l5d.yaml'), { resolver });
function refusal(text: string): string {
  try {
    load(text);
  } catch (e) {
    assert.ok(e instanceof ConfigFileError, String(e));
    return e.message;
  }
  assert.fail('expected a config error');
}

describe('linkerd config', () => {
  test("linkerd's defaults: admin 127.0.0.1:9990, servers on loopback port 4140, label = protocol, /svc, 10 s binding", () => {
    const c = load('routers:\n- protocol: http\n  servers:\n  - {}\n');
    assert.deepEqual({ ...c.admin, security: undefined }, { ip: '127.0.0.1', port: 9990, shutdownGraceMs: 10_000, security: undefined, exportThreadMinMetrics: 5000 });
    assert.equal(c.admin.security.controlLoopbackOnly, true);
    const r = c.routers[0]!;
    assert.equal(r.label, 'http');
    assert.equal(r.dstPrefix.show, '/svc');
    assert.equal(r.bindingTimeoutMs, 10_000);
    assert.equal(r.maxHeadersKB, 8);
    assert.deepEqual(
      r.servers.map((s) => [s.ip, s.port, s.clearContext, s.maxCallDepth, s.headersTimeoutMs, s.idleTimeoutMs]),
      [['127.0.0.1', 4140, false, 1000, 10_000, 60_000]],
    );
    assert.equal(r.interpreter.kind, 'default');
  });

  test('admin.exportThreadMinMetrics: a count of metrics, 0 for always; anything else is refused where it stands', () => {
    assert.equal(load('admin: {exportThreadMinMetrics: 0}\nrouters:\n- protocol: http\n  servers:\n  - {}\n').admin.exportThreadMinMetrics, 0);
    assert.equal(load('admin: {exportThreadMinMetrics: 20000}\nrouters:\n- protocol: http\n  servers:\n  - {}\n').admin.exportThreadMinMetrics, 20_000);
    for (const bad of ['-1', '1.5', 'lots', '[1]']) assert.match(refusal(`admin: {exportThreadMinMetrics: ${bad}}\nrouters:\n- protocol: http\n  servers:\n  - {}\n`), /exportThreadMinMetrics/);
  });

  test('socketOptions.readTimeoutMs sets the idle timeout; the other socket options are listed', () => {
    const c = load('routers:\n- protocol: http\n  servers:\n  - socketOptions: {readTimeoutMs: 1500, reusePort: true}\n');
    assert.equal(c.routers[0]!.servers[0]!.idleTimeoutMs, 1500);
    assert.deepEqual(c.notApplied, ['routers[0].servers[0].socketOptions.reusePort']);
    assert.match(refusal('routers:\n- protocol: http\n  servers:\n  - socketOptions: {readTimeoutMs: soon}\n'), /socketOptions\.readTimeoutMs/);
    assert.match(refusal('routers:\n- protocol: http\n  servers:\n  - socketOptions: {bogus: 1}\n'), /socketOptions\.bogus/);
  });

  test('later settings are read and listed as not applied yet', () => {
    const c = load(
      'telemetry: [{kind: io.l5d.prometheus}, {kind: io.l5d.zipkin, port: 9410}]\nrouters:\n- protocol: http\n  client: {loadBalancer: {kind: ewma}}\n  servers:\n  - port: 4140\n    tls: {}\n',
    );
    assert.deepEqual(c.notApplied, ['telemetry[1] (io.l5d.zipkin)', 'routers[0].servers[0].tls']);
  });

  test('telemetry: io.l5d.prometheus and io.l5d.recentRequests are read with their defaults and checked', () => {
    const router = 'routers:\n- protocol: http\n  servers: [{port: 4140}]\n';
    assert.deepEqual(load(router).telemetry, { prometheus: { path: '/admin/metrics/prometheus', prefix: '' }, recentRequests: undefined });
    const c = load(`telemetry:\n- {kind: io.l5d.prometheus, path: /metrics, prefix: linkerd_}\n- {kind: io.l5d.recentRequests, sampleRate: 0.25}\n${router}`);
    assert.deepEqual(c.telemetry, { prometheus: { path: '/metrics', prefix: 'linkerd_' }, recentRequests: { sampleRate: 0.25, capacity: 10 } });
    assert.match(refusal(`telemetry: [{kind: io.l5d.recentRequests}]\n${router}`), /telemetry\[0\]\.sampleRate: sampleRate is required/);
    assert.match(refusal(`telemetry: [{kind: io.l5d.recentRequests, sampleRate: 2}]\n${router}`), /telemetry\[0\]\.sampleRate/);
    assert.match(refusal(`telemetry: [{kind: io.l5d.prometheus, prefix: "a-b"}]\n${router}`), /telemetry\[0\]\.prefix: a Prometheus name prefix/);
    assert.match(refusal(`telemetry: [{kind: io.l5d.prometheus, path: metrics}]\n${router}`), /telemetry\[0\]\.path: expected a URL path/);
    assert.match(refusal(`telemetry: [{kind: io.l5d.prometheus, bogus: 1}]\n${router}`), /telemetry\[0\]\.bogus: unknown key/);
    assert.match(refusal(`telemetry: [{kind: io.l5d.gopher}]\n${router}`), /telemetry\[0\]\.kind: unknown telemeter kind "io\.l5d\.gopher"/);
    assert.match(refusal(`telemetry: {kind: io.l5d.prometheus}\n${router}`), /telemetry: expected a list of telemeters/);
  });

  test('refusals name the key and line', () => {
    assert.match(refusal('routers: []\n'), /^l5d\.yaml:1:\d+: routers: at least one router is required/);
    assert.match(refusal('routers:\n- protocol: http\n'), /routers\[0\]: .*servers: at least one server is required|routers\[0\]\.servers: at least one server is required/);
    assert.match(refusal('routers:\n- protocol: http\n  servers: [{port: 1}]\n  bogus: 1\n'), /^l5d\.yaml:4:\d+: routers\[0\]\.bogus: unknown key/);
    assert.match(refusal('routers:\n- protocol: h2\n  servers: [{}]\n'), /routers\[0\]\.protocol: protocol h2 is not supported yet/);
    assert.match(refusal('routers:\n- protocol: gopher\n  servers: [{}]\n'), /unknown protocol "gopher"/);
    assert.match(
      refusal('routers:\n- protocol: http\n  servers: [{port: 1}]\n- protocol: http\n  servers: [{port: 2}]\n'),
      /^l5d\.yaml:4:\d+: routers\[1\]\.label: label "http" is already used by routers\[0\]/,
    );
    assert.match(
      refusal('routers:\n- protocol: http\n  label: a\n  servers: [{port: 5}]\n- protocol: http\n  label: b\n  servers: [{port: 5}]\n'),
      /routers\[1\]\.servers\[0\]\.port: 127\.0\.0\.1:5 is already used by routers\[0\]\.servers\[0\]/,
    );
    assert.match(refusal('routers:\n- protocol: http\n  servers: [{port: 9990}]\n'), /is already used by admin/);
    assert.match(refusal('routers:\n- protocol: http\n  dtab: /a => => /b\n  servers: [{}]\n'), /^l5d\.yaml:3:\d+: routers\[0\]\.dtab: /);
    assert.match(refusal('routers:\n- protocol: http\n  identifier: {kind: io.l5d.path, segments: x}\n  servers: [{}]\n'), /routers\[0\]\.identifier\.segments/);
    assert.match(refusal('routers:\n- protocol: http\n  dstPrefix: svc\n  servers: [{}]\n'), /routers\[0\]\.dstPrefix: not a path/);
    assert.match(refusal('routers:\n- protocol: http\n  servers: [{port: 70000}]\n'), /servers\[0\]\.port/);
    assert.match(refusal('admin: {port: 1, nope: 2}\nrouters:\n- protocol: http\n  servers: [{}]\n'), /admin\.nope: unknown key/);
  });
});

describe('dtabd check', () => {
  const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  const run = (input: string) => spawnSync(process.execPath, [MAIN, 'check', '-'], { input, encoding: 'utf8', timeout: 20_000 });
  test('describes a good config and lists what is not applied yet', () => {
    const r = run('routers:\n- protocol: http\n  label: out\n  dtab: /svc => /$/inet/127.1/80\n  originator: true\n  servers: [{port: 4140, clearContext: true}]\n');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'admin: 127.0.0.1:9990\nrouter out: http on 127.0.0.1:4140 (clearContext); dtab of 1 dentries; interpreter default\n');
    assert.equal(r.stderr, 'read but not applied yet: routers[0].originator\n');
  });
  test('a bad config exits 1 with the placed error', () => {
    const r = run('routers:\n- protocol: http\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^-:\d+:\d+: routers\[0\]\.servers: at least one server is required\n$/);
  });
});

describe('client block', () => {
  const router = (client: string): string => `routers:\n- protocol: http\n  client: ${client}\n  servers: [{}]\n`;

  test('failure accrual, backoffs and the requeue budget are read; the rest is listed', () => {
    const c = load(
      router(
        '{failureAccrual: {kind: io.l5d.consecutiveFailures, failures: 3, backoff: {kind: jittered, minMs: 10, maxMs: 100}}, requeueBudget: {minRetriesPerSec: 2, percentCanRetry: 0.5, ttlSecs: 4}, loadBalancer: {kind: ewma, decayTimeMs: 5}, hostConnectionPool: {maxSize: 4}}',
      ),
    );
    const client = c.routers[0]!.client.resolve(ANY_CLIENT);
    assert.equal(client.failureAccrual.failures, 3);
    assert.equal(client.failureAccrual.backoff().next(), 10);
    assert.deepEqual(client.requeueBudget, { minRetriesPerSec: 2, percentCanRetry: 0.5, ttlMs: 4000 });
    assert.deepEqual(client.balancer, { kind: 'ewma', decayTimeMs: 5, lowLoad: undefined, highLoad: undefined, minAperture: undefined, smoothWindowMs: undefined });
    assert.deepEqual(client.pool, { minSize: 0, maxSize: 4, idleTimeMs: 4000, maxWaiters: Infinity });
    assert.deepEqual(c.notApplied, []);
    assert.match(refusal(router('{hostConnectionPool: {minSize: 5, maxSize: 2}}')), /hostConnectionPool\.minSize: 5 is more than maxSize 2/);
    const aperture = load(router('{loadBalancer: {kind: aperture, minAperture: 2, lowLoad: 1, highLoad: 3, maxEffort: 5}}'));
    assert.deepEqual(aperture.routers[0]!.client.resolve(ANY_CLIENT).balancer, { kind: 'aperture', decayTimeMs: 10000, lowLoad: 1, highLoad: 3, minAperture: 2, smoothWindowMs: undefined });
    assert.deepEqual(aperture.notApplied, []);
    assert.match(refusal(router('{loadBalancer: {kind: p2c, maxEffort: 0}}')), /loadBalancer\.maxEffort/);
    assert.match(refusal(router('{loadBalancer: {kind: aperture, lowLoad: 3, highLoad: 1}}')), /loadBalancer\.lowLoad: 3 is more than highLoad 1/);
    assert.equal(load(router('{failureAccrual: {kind: none}}')).routers[0]!.client.resolve(ANY_CLIENT).failureAccrual.kind, 'none');
  });

  test('io.l5d.static: every config whose prefix matches the client id applies, later ones winning', () => {
    const c = load(
      router(
        `{kind: io.l5d.static, configs: [
          {prefix: /, requestAttemptTimeoutMs: 100, loadBalancer: {kind: roundRobin}},
          {prefix: "/#/io.l5d.fs/{service}", requestAttemptTimeoutMs: 200, failFast: true},
          {prefix: "/#/io.l5d.fs/slow", requestAttemptTimeoutMs: 900, failureAccrual: {kind: none}},
          {prefix: "/$/inet/*/8080", loadBalancer: {kind: heap}}]}`,
      ),
    );
    const clients = c.routers[0]!.client;
    const web = clients.resolve(ANY_CLIENT);
    assert.equal(web.attemptTimeoutMs, 200);
    assert.equal(web.balancer.kind, 'roundRobin');
    assert.equal(web.failureAccrual.kind, 'io.l5d.consecutiveFailures');
    const slow = clients.resolve(readPath('/#/io.l5d.fs/slow/x'));
    assert.equal(slow.attemptTimeoutMs, 900);
    assert.equal(slow.failureAccrual.kind, 'none');
    const inet = clients.resolve(readPath('/$/inet/127.1/8080'));
    assert.deepEqual([inet.attemptTimeoutMs, inet.balancer.kind], [100, 'heap']);
    assert.equal(web.failFast, true);
    assert.equal(inet.failFast, false);
    assert.deepEqual(c.notApplied, []);
    assert.match(refusal(router('{kind: io.l5d.static, configs: [{prefix: /, requestAttemptTimeoutMs: soon}]}')), /client\.configs\[0\]\.requestAttemptTimeoutMs/);
    assert.match(refusal(router('{kind: io.l5d.static, configs: [{requestAttemptTimeoutMs: 5}]}')), /client\.configs\[0\]\.prefix/);
  });

  test('success-rate accruals need their rate and span', () => {
    const sr = load(router('{failureAccrual: {kind: io.l5d.successRate, successRate: 0.9, requests: 50}}')).routers[0]!.client.resolve(ANY_CLIENT).failureAccrual;
    assert.deepEqual([sr.kind, sr.successRate, sr.requests], ['io.l5d.successRate', 0.9, 50]);
    const w = load(router('{failureAccrual: {kind: io.l5d.successRateWindowed, successRate: 0.5, window: 30}}')).routers[0]!.client.resolve(ANY_CLIENT).failureAccrual;
    assert.deepEqual([w.kind, w.successRate, w.windowMs], ['io.l5d.successRateWindowed', 0.5, 30_000]);
    assert.match(refusal(router('{failureAccrual: {kind: io.l5d.successRate, requests: 5}}')), /failureAccrual\.successRate: required/);
    assert.match(refusal(router('{failureAccrual: {kind: io.l5d.successRate, successRate: 2, requests: 5}}')), /successRate: must be between 0 and 1/);
    assert.match(refusal(router('{failureAccrual: {kind: io.l5d.successRateWindowed, successRate: 0.5}}')), /failureAccrual\.window/);
  });

  test('refusals name the key', () => {
    assert.match(refusal(router('{failureAccrual: {kind: sometimes}}')), /client\.failureAccrual\.kind: unknown failure accrual kind/);
    assert.match(refusal(router('{failureAccrual: {kind: io.l5d.consecutiveFailures, backoff: {kind: jittered, minMs: 10, maxMs: 5}}}')), /backoff\.maxMs: 5 is less than minMs 10/);
    assert.match(refusal(router('{requeueBudget: {percentCanRetry: 2000}}')), /requeueBudget\.percentCanRetry: must be between 0 and 1000/);
    assert.match(refusal(router('{loadBalancer: {kind: random}}')), /loadBalancer\.kind: unknown load balancer/);
    assert.match(refusal(router('{kind: io.l5d.mystery}')), /client\.kind: unknown client kind/);
    assert.match(refusal(router('{bogus: 1}')), /client\.bogus: unknown key/);
  });
});

describe('service block', () => {
  const router = (service: string): string => `routers:\n- protocol: http\n  service: ${service}\n  servers: [{}]\n`;

  test('classifier, retries and the total timeout are read', () => {
    const s = load(router('{totalTimeoutMs: 500, responseClassifier: {kind: io.l5d.http.retryableIdempotent5XX}, retries: {budget: {percentCanRetry: 0.5}, backoff: {kind: constant, ms: 20}}}')).routers[0]!.service.resolve(ANY_SERVICE);
    assert.equal(s.totalTimeoutMs, 500);
    assert.equal(s.classifierKind, 'io.l5d.http.retryableIdempotent5XX');
    assert.deepEqual(s.classifier('PUT', 503, false), { success: false, retryable: true });
    assert.deepEqual(s.classifier('POST', 503, false), { success: false, retryable: false });
    assert.deepEqual(s.classifier('POST', 503, true), { success: false, retryable: true });
    assert.deepEqual(s.classifier('GET', 404, false), { success: true, retryable: false });
    assert.equal(s.retries.budget.percentCanRetry, 0.5);
    assert.equal(s.retries.backoff().next(), 20);
    const statics = load(router('{kind: io.l5d.static, configs: [{prefix: /svc, totalTimeoutMs: 100}, {prefix: /svc/web, totalTimeoutMs: 50}]}')).routers[0]!.service;
    assert.equal(statics.resolve(ANY_SERVICE).totalTimeoutMs, 50);
    assert.equal(statics.resolve(readPath('/svc/api')).totalTimeoutMs, 100);
    assert.equal(statics.resolve(readPath('/other')).totalTimeoutMs, undefined);
  });

  test('refusals name the key', () => {
    assert.match(refusal(router('{responseClassifier: {kind: io.l5d.http.sometimes}}')), /service\.responseClassifier\.kind: unknown response classifier/);
    assert.match(refusal(router('{retries: {budget: {ttlSecs: 0}}}')), /service\.retries\.budget\.ttlSecs/);
    assert.match(refusal(router('{retries: {backoff: {kind: linear}}}')), /service\.retries\.backoff\.kind: unknown backoff kind/);
    assert.match(refusal(router('{totalTimeoutMs: -1}')), /service\.totalTimeoutMs/);
  });
});
