// A linkerd 1.x config file read whole (spec/linkerd.md §11): `admin`, `namers`, `routers`,
// `telemetry`, `usage`, with linkerd's defaults and strict validation. Everything is checked
// before anything starts: an unknown key, a duplicate label or listen address, a malformed dtab
// or a kind dtabd does not have yet is an error placed at its key and line. linkerd keys whose
// behaviour comes later are accepted and listed as not applied yet, never dropped silently.

import { ConfigError, ConfigReader } from '../core/index.ts';
import { type Dtab, type Path, readPath } from '../dtab/index.ts';
import { THREAD_MIN_METRICS } from '../metrics/index.ts';
import type { Interpreter } from '../namer/index.ts';
import { type Identifier, identifierFromConfig } from '../proxy/index.ts';
import { type ConfigFile, placeError } from './config-file.ts';
import { type ClientConfig, readClient } from './client-config.ts';
import { readService, type ServiceConfig } from './service-config.ts';
import type { ParamsByName } from './prefix-configs.ts';
import { readTelemetry, type TelemetryConfig } from './telemetry-config.ts';
import { type NamingOptions, routerInterpreter, type SharedNaming, sharedNaming } from './naming.ts';

export interface ServerConfig {
  readonly at: string;
  readonly ip: string;
  readonly port: number;
  readonly clearContext: boolean;
  readonly maxConcurrentRequests: number | undefined;
  /** `Via` entries allowed before a request is taken for a loop (linkerd: 1000). */
  readonly maxCallDepth: number;
  /** dtabd's own: a request's head must arrive within this (10 s), so slow clients cannot hold connections. */
  readonly headersTimeoutMs: number;
  /** dtabd's own: an idle client connection is closed after this (60 s). */
  readonly idleTimeoutMs: number;
}

export interface RouterConfig {
  readonly at: string;
  readonly protocol: 'http';
  readonly label: string;
  readonly dtab: Dtab;
  readonly dstPrefix: Path;
  readonly identifier: Identifier;
  readonly interpreter: Interpreter;
  readonly bindingTimeoutMs: number;
  readonly maxHeadersKB: number;
  readonly maxErrResponseKB: number;
  readonly httpAccessLog: string | undefined;
  readonly servers: readonly ServerConfig[];
  readonly client: ParamsByName<ClientConfig>;
  readonly service: ParamsByName<ServiceConfig>;
  /** The router's config text and the namers', to tell on reload whether it changed. */
  readonly fingerprint: string;
}

export interface LinkerdConfig {
  readonly admin: {
    readonly ip: string;
    readonly port: number;
    readonly shutdownGraceMs: number;
    readonly security: AdminSecurityConfig;
    /** dtabd's: metrics from which scrapes are written in a thread of their own (5,000). */
    readonly exportThreadMinMetrics: number;
  };
  readonly naming: SharedNaming;
  readonly routers: readonly RouterConfig[];
  readonly telemetry: TelemetryConfig;
  /** Key paths of linkerd settings read but not applied yet. */
  readonly notApplied: readonly string[];
}

/** How long a shutdown lets requests in flight finish (linkerd's `admin.shutdownGraceMs`). */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

const DEFAULT_PORTS: Record<string, number> = { http: 4140, h2: 4142, thrift: 4114, thriftmux: 4144, mux: 4141 };
const LATER_PROTOCOLS = ['h2', 'thrift', 'thriftmux', 'mux'];

/** Router keys linkerd has whose behaviour dtabd does not apply yet. */
const ROUTER_LATER = [
  'bindingCache',
  'originator',
  'announcers',
  'httpAccessLogRollPolicy',
  'httpAccessLogAppend',
  'httpAccessLogRotateCount',
  'maxInitialLineKB',
  'maxChunkKB',
  'maxRequestKB',
  'maxResponseKB',
  'streamingEnabled',
  'streamAfterContentLengthKB',
  'compressionLevel',
  'tracePropagator',
];
const SERVER_LATER = ['tls', 'announce', 'serverSession', 'timeoutMs', 'label', 'addForwardedHeader', 'timestampHeader', 'engine'];
/** Socket options linkerd has that dtabd does not apply yet (TCP_NODELAY is always on). */
const SOCKET_LATER = ['noDelay', 'reuseAddr', 'reusePort', 'writeTimeoutMs', 'keepAlive', 'backlog'];
const ADMIN_LATER = ['tls', 'workerThreads', 'httpIdentifierPort'];

/** Reads and checks a whole config. Throws ConfigFileError at the first problem. */
export function loadLinkerdConfig(file: ConfigFile, options: NamingOptions = {}): LinkerdConfig {
  try {
    return read(file.root, options);
  } catch (e) {
    if (e instanceof ConfigError) throw placeError(file, e);
    throw e;
  }
}

function read(root: unknown, options: NamingOptions): LinkerdConfig {
  const top = new ConfigReader(root, '');
  const notApplied: string[] = [];
  const admin = readAdmin(top.raw('admin'), notApplied);
  const telemetry = readTelemetry(top.raw('telemetry'), 'telemetry', notApplied);
  notApplied.push(...top.present('usage'));
  const routers = top.optionalList('routers') ?? [];
  if (routers.length === 0) throw new ConfigError('routers', 'at least one router is required');
  const namersText = JSON.stringify(top.raw('namers') ?? null);
  const naming = sharedNaming(top, options);
  top.done();

  const labels = new Map<string, string>();
  const listens = new Map<string, string>(admin.port === 0 ? [] : [[`${admin.ip}:${admin.port}`, 'admin']]);
  const out = routers.map((r) => {
    const router = readRouter(r.value, r.at, naming, notApplied, `${namersText}\n${JSON.stringify(r.value)}`);
    const other = labels.get(router.label);
    if (other !== undefined) throw new ConfigError(`${r.at}.label`, `label ${JSON.stringify(router.label)} is already used by ${other}`);
    labels.set(router.label, r.at);
    for (const s of router.servers) {
      // Port 0 asks the system for a free port: never the same twice.
      if (s.port === 0) continue;
      const key = `${s.ip}:${s.port}`;
      const taken = listens.get(key);
      if (taken !== undefined) throw new ConfigError(`${s.at}.port`, `${key} is already used by ${taken}`);
      listens.set(key, s.at);
    }
    return router;
  });
  return { admin, naming, routers: out, telemetry, notApplied };
}

function readAdmin(raw: unknown, notApplied: string[]): LinkerdConfig['admin'] {
  if (raw === undefined || raw === null) {
    return { ip: '127.0.0.1', port: 9990, shutdownGraceMs: DEFAULT_SHUTDOWN_GRACE_MS, security: DEFAULT_ADMIN_SECURITY, exportThreadMinMetrics: THREAD_MIN_METRICS };
  }
  const admin = new ConfigReader(raw, 'admin');
  const ip = admin.optionalString('ip') ?? '127.0.0.1';
  const port = admin.optionalInteger('port', 0, 65535) ?? 9990;
  const shutdownGraceMs = admin.optionalInteger('shutdownGraceMs', 0, 2 ** 31 - 1) ?? DEFAULT_SHUTDOWN_GRACE_MS;
  const security = readSecurity(admin.raw('security'), admin.keyAt('security'));
  const exportThreadMinMetrics = admin.optionalInteger('exportThreadMinMetrics', 0, 2 ** 31 - 1) ?? THREAD_MIN_METRICS;
  notApplied.push(...admin.present(...ADMIN_LATER));
  admin.done();
  return { ip, port, shutdownGraceMs, security, exportThreadMinMetrics };
}

/** The admin server's `security` block (read here; the admin server applies it). */
export interface AdminSecurityConfig {
  readonly uiEnabled: boolean;
  readonly controlEnabled: boolean;
  readonly diagnosticsEnabled: boolean;
  readonly pathWhitelist: readonly RegExp[];
  readonly pathBlacklist: readonly RegExp[];
  /** dtabd's own: the control endpoints answer loopback callers only (true). */
  readonly controlLoopbackOnly: boolean;
}

export const DEFAULT_ADMIN_SECURITY: AdminSecurityConfig = {
  uiEnabled: true,
  controlEnabled: true,
  diagnosticsEnabled: true,
  pathWhitelist: [],
  pathBlacklist: [],
  controlLoopbackOnly: true,
};

function readSecurity(raw: unknown, at: string): AdminSecurityConfig {
  if (raw === undefined || raw === null) return DEFAULT_ADMIN_SECURITY;
  const r = new ConfigReader(raw, at);
  const patterns = (key: string): RegExp[] =>
    (r.optionalList(key) ?? []).map((item) => {
      if (typeof item.value !== 'string') throw new ConfigError(item.at, 'expected a regular expression');
      try {
        // Whole paths, as linkerd matches them.
        return new RegExp(`^(?:${item.value})$`);
      } catch (e) {
        throw new ConfigError(item.at, `not a regular expression: ${(e as Error).message}`);
      }
    });
  const out: AdminSecurityConfig = {
    uiEnabled: r.optionalBoolean('uiEnabled') ?? true,
    controlEnabled: r.optionalBoolean('controlEnabled') ?? true,
    diagnosticsEnabled: r.optionalBoolean('diagnosticsEnabled') ?? true,
    pathWhitelist: patterns('pathWhitelist'),
    pathBlacklist: patterns('pathBlacklist'),
    controlLoopbackOnly: r.optionalBoolean('controlLoopbackOnly') ?? true,
  };
  r.done();
  return out;
}

function readRouter(raw: unknown, at: string, naming: SharedNaming, notApplied: string[], fingerprint: string): RouterConfig {
  const router = new ConfigReader(raw, at);
  const protocol = router.string('protocol');
  if (LATER_PROTOCOLS.includes(protocol)) throw router.error('protocol', `protocol ${protocol} is not supported yet`);
  if (protocol !== 'http') throw router.error('protocol', `unknown protocol ${JSON.stringify(protocol)}; known: http, ${LATER_PROTOCOLS.join(', ')}`);
  const label = router.optionalString('label') ?? protocol;
  router.ignore('experimental');
  let dstPrefix = readPath('/svc');
  const prefixText = router.optionalString('dstPrefix');
  if (prefixText !== undefined) {
    try {
      dstPrefix = readPath(prefixText);
    } catch (e) {
      throw router.error('dstPrefix', `not a path: ${(e as Error).message}`);
    }
  }
  const identifier = identifierFromConfig(router.raw('identifier'), router.keyAt('identifier'), dstPrefix);
  const { dtab, interpreter } = routerInterpreter(router, naming);
  const bindingTimeoutMs = router.optionalInteger('bindingTimeoutMs', 1, 2 ** 31 - 1) ?? 10_000;
  const maxHeadersKB = router.optionalInteger('maxHeadersKB', 1, 1024) ?? 8;
  const maxErrResponseKB = router.optionalInteger('maxErrResponseKB', 0, 1024 * 1024) ?? 5120;
  const httpAccessLog = router.optionalString('httpAccessLog');
  const client = readClient(router.raw('client'), router.keyAt('client'), notApplied);
  const service = readService(router.raw('service'), router.keyAt('service'), notApplied);
  notApplied.push(...router.present(...ROUTER_LATER));
  const serverList = router.optionalList('servers');
  if (serverList === undefined || serverList.length === 0) throw router.error('servers', 'at least one server is required');
  const servers = serverList.map((s) => readServer(s.value, s.at, DEFAULT_PORTS[protocol]!, notApplied));
  router.done();
  return {
    at,
    protocol: 'http',
    label,
    dtab,
    dstPrefix,
    identifier,
    interpreter,
    bindingTimeoutMs,
    maxHeadersKB,
    maxErrResponseKB,
    httpAccessLog,
    servers,
    client,
    service,
    fingerprint,
  };
}

function readServer(raw: unknown, at: string, defaultPort: number, notApplied: string[]): ServerConfig {
  const server = new ConfigReader(raw, at);
  const ip = server.optionalString('ip') ?? '127.0.0.1';
  const port = server.optionalInteger('port', 0, 65535) ?? defaultPort;
  const clearContext = server.optionalBoolean('clearContext') ?? false;
  const maxConcurrentRequests = server.optionalInteger('maxConcurrentRequests', 1, 2 ** 31 - 1);
  const maxCallDepth = server.optionalInteger('maxCallDepth', 1, 2 ** 31 - 1) ?? 1000;
  const headersTimeoutMs = server.optionalInteger('headersTimeoutMs', 1, 2 ** 31 - 1) ?? 10_000;
  let idleTimeoutMs = server.optionalInteger('idleTimeoutMs', 1, 2 ** 31 - 1) ?? 60_000;
  const socketOptions = server.raw('socketOptions');
  if (socketOptions !== undefined && socketOptions !== null) {
    const so = new ConfigReader(socketOptions, server.keyAt('socketOptions'));
    // linkerd's read timeout closes a connection nothing was read from for that long.
    const readTimeoutMs = so.optionalInteger('readTimeoutMs', 1, 2 ** 31 - 1);
    if (readTimeoutMs !== undefined) idleTimeoutMs = readTimeoutMs;
    notApplied.push(...so.present(...SOCKET_LATER));
    so.done();
  }
  notApplied.push(...server.present(...SERVER_LATER));
  server.done();
  return { at, ip, port, clearContext, maxConcurrentRequests, maxCallDepth, headersTimeoutMs, idleTimeoutMs };
}
