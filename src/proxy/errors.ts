// The errors a router produces, each with a stable code, linkerd's status and linkerd's text
// (spec/linkerd.md §7). Only `rescue` turns them into responses.

import type { Dtab, Path } from '../dtab/index.ts';

export const FailureFlags = { Retryable: 1, Interrupted: 2, Rejected: 4, NonRetryable: 8, Naming: 16 } as const;

export abstract class ProxyError extends Error {
  /** Stable: logs, metrics and tests use it. */
  abstract readonly code: string;
  /** The HTTP status linkerd answers with. */
  abstract readonly status: number;
  flags = 0;
}

/** How a request shows in linkerd's messages: `Request("GET /x", from /10.0.0.1:5678)`. */
export function describeRequest(method: string, uri: string, remoteAddress: string, remotePort: number): string {
  return `Request("${method} ${uri}", from /${javaInetText(remoteAddress)}:${remotePort})`;
}

/** An address as Java prints it: IPv6 in full eight groups without brackets, IPv4-mapped as IPv4. */
export function javaInetText(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head, tail] = address.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}

/** No identifier could name the request (400). */
export class IdentificationError extends ProxyError {
  readonly code = 'L5D_UNKNOWN_DST';
  readonly status = 400;
  readonly reason: string;

  constructor(request: string, reason: string) {
    super(`Unknown destination: ${request} / ${reason}`);
    this.reason = reason;
  }
}

/** A malformed `l5d-dtab` or `l5d-ctx-dtab` header (400, the parser's message). */
export class DtabHeaderError extends ProxyError {
  readonly code = 'L5D_BAD_DTAB';
  readonly status = 400;
}

/** More `Via` entries than `maxCallDepth` allows (400). */
export class ProxyLoopError extends ProxyError {
  readonly code = 'L5D_PROXY_LOOP';
  readonly status = 400;

  constructor(maxCallDepth: number) {
    super(`Maximum number of calls (${maxCallDepth}) has been exceeded. Please check for proxy loops.`);
  }
}

function dtabLines(dtab: Dtab): string {
  return dtab.dentries.map((d) => `  ${d.prefix.show} => ${d.dstShow}`).join('\n');
}

/** The name bound to nothing, or to no endpoints (502), in linkerd 1.7's words. */
export class NoBrokersAvailableError extends ProxyError {
  readonly code = 'L5D_NO_BROKERS';
  readonly status = 502;
  override flags = FailureFlags.Naming;

  constructor(name: Path, baseDtab: Dtab, localDtab: Dtab) {
    // linkerd 1.7 prints an empty `dtab:` section before the two that matter.
    super(
      `Unable to route request!\n\nservice name: ${name.show}\ndtab:\n\nbase dtab:\n${dtabLines(baseDtab)}\noverride dtab:\n${dtabLines(localDtab)}\n`,
    );
  }
}

/** Binding still pending after `bindingTimeoutMs` (503). */
export class BindingTimeoutError extends ProxyError {
  readonly code = 'L5D_BINDING_TIMEOUT';
  readonly status = 503;
  override flags = FailureFlags.Naming | FailureFlags.Interrupted;

  constructor(name: Path, timeoutMs: number) {
    super(`exceeded ${durationText(timeoutMs)} to unspecified while dyn binding ${name.show}. Remote Info: Not Available`);
  }
}

/** A namer failure under the name, e.g. a malformed address file (502). */
export class NamerError extends ProxyError {
  readonly code = 'L5D_NAMER';
  readonly status = 502;
  override flags = FailureFlags.Naming;
}

/** Connecting to the chosen endpoint failed; nothing was written, so a retry is safe (502). */
export class ConnectionFailedError extends ProxyError {
  readonly code = 'L5D_CONNECT';
  readonly status = 502;
  override flags = FailureFlags.Retryable;

  constructor(address: string, name: Path, client: Path, addresses: readonly string[], options?: { cause?: unknown }) {
    super(
      `Unable to establish connection to ${address}.\n\nservice name: ${name.show}\nclient name: ${client.show}\naddresses: [${addresses.join(', ')}]\nselected address: ${address}`,
      options,
    );
  }
}

/** A Twitter `Duration` as its `toString` prints it: `10.seconds`, `500.milliseconds`. */
export function durationText(ms: number): string {
  if (ms % 86_400_000 === 0 && ms !== 0) return `${ms / 86_400_000}.days`;
  if (ms % 3_600_000 === 0 && ms !== 0) return `${ms / 3_600_000}.hours`;
  if (ms % 60_000 === 0 && ms !== 0) return `${ms / 60_000}.minutes`;
  if (ms % 1000 === 0 && ms !== 0) return `${ms / 1000}.seconds`;
  return `${ms}.milliseconds`;
}

/** The caller's deadline (`l5d-ctx-deadline`) passed before the answer (503). */
export class DeadlineExceededError extends ProxyError {
  readonly code = 'L5D_DEADLINE';
  readonly status = 503;

  constructor(name: string) {
    super(`exceeded the request deadline set by the caller (l5d-ctx-deadline) for ${name}`);
  }
}

/** One attempt took longer than `requestAttemptTimeoutMs` (503). */
export class AttemptTimeoutError extends ProxyError {
  readonly code = 'L5D_ATTEMPT_TIMEOUT';
  readonly status = 503;

  constructor(ms: number, name: string) {
    super(`exceeded ${durationText(ms)} to ${name} while waiting for a response for an individual request, excluding retries`);
  }
}

/** The whole request took longer than `totalTimeoutMs` (503). */
export class TotalTimeoutError extends ProxyError {
  readonly code = 'L5D_TOTAL_TIMEOUT';
  readonly status = 503;

  constructor(ms: number, name: string) {
    super(`exceeded ${durationText(ms)} to ${name} while waiting for a response for the request, including retries (if applicable)`);
  }
}

/** Rejected past `maxConcurrentRequests` (503). */
export class ConcurrencyLimitError extends ProxyError {
  readonly code = 'L5D_OVERLOADED';
  readonly status = 503;

  constructor(max: number) {
    super(`Rejected: more than ${max} concurrent requests`);
  }
}

/** Failures of an exchange after the request was (perhaps) written: the message as it is. */
export class UpstreamError extends ProxyError {
  readonly code = 'L5D_UPSTREAM';
  readonly status = 502;
}

/** More requests wait for a connection to an endpoint than `hostConnectionPool.maxWaiters` (503). */
export class PoolExhaustedError extends ProxyError {
  readonly code = 'L5D_TOO_MANY_WAITERS';
  readonly status = 503;

  constructor(endpoint: string, maxWaiters: number) {
    super(`Too many waiters: ${maxWaiters} requests already wait for a connection to ${endpoint}`);
  }
}
