// Request context that travels between hops (spec/linkerd.md §6): the trace id in
// `l5d-ctx-trace` (Finagle's TraceId: span, parent and trace ids and flags, 8 bytes each,
// big-endian, base64) with `l5d-reqid` (the trace id in hex), and the deadline in
// `l5d-ctx-deadline` (`<timestamp ns> <deadline ns>`, the strictest of several).

/** A Finagle trace id: three 64-bit ids as 16 hex digits each, and the flags. */
export interface TraceId {
  readonly spanId: string;
  readonly parentId: string;
  readonly traceId: string;
  /** 64-bit flags as a bigint-free pair: only the low word carries known flags. */
  readonly flagsHigh: number;
  readonly flagsLow: number;
}

/** An integer in [0, 2^32) as 8 hex digits. */
function hex8(n: number): string {
  const s = n.toString(16);
  return s.length === 8 ? s : '00000000'.slice(s.length) + s;
}

/** 64 random bits as 16 hex digits (ids need to be unique, not secret). */
export function randomId(): string {
  return hex8(Math.floor(Math.random() * 0x1_0000_0000)) + hex8(Math.floor(Math.random() * 0x1_0000_0000));
}

/** Reads an `l5d-ctx-trace` value; undefined when it is not a trace id (it is then ignored). */
export function readTrace(value: string | undefined): TraceId | undefined {
  if (value === undefined) return undefined;
  const bytes = Buffer.from(value, 'base64');
  // 32 bytes; 40 with a 128-bit trace id's high half, which is kept out of the short id.
  if (bytes.length !== 32 && bytes.length !== 40) return undefined;
  return {
    spanId: bytes.toString('hex', 0, 8),
    parentId: bytes.toString('hex', 8, 16),
    traceId: bytes.toString('hex', 16, 24),
    flagsHigh: bytes.readUInt32BE(24),
    flagsLow: bytes.readUInt32BE(28),
  };
}

/** The trace id of the next hop: a new span under the caller's, or a new root. */
export function nextTrace(parent: TraceId | undefined): TraceId {
  const spanId = randomId();
  if (parent === undefined) return { spanId, parentId: spanId, traceId: spanId, flagsHigh: 0, flagsLow: 0 };
  return { spanId, parentId: parent.spanId, traceId: parent.traceId, flagsHigh: parent.flagsHigh, flagsLow: parent.flagsLow };
}

/** The `l5d-ctx-trace` value of a trace id. */
export function writeTrace(t: TraceId): string {
  const b = Buffer.allocUnsafe(32);
  b.write(t.spanId, 0, 'hex');
  b.write(t.parentId, 8, 'hex');
  b.write(t.traceId, 16, 'hex');
  b.writeUInt32BE(t.flagsHigh >>> 0, 24);
  b.writeUInt32BE(t.flagsLow >>> 0, 28);
  return b.toString('base64');
}

const DEADLINE = /^\s*(-?\d{1,19})\s+(-?\d{1,19})\s*$/;

/**
 * The strictest deadline among `l5d-ctx-deadline` values, as the value to send on, or
 * undefined when none is well formed. Malformed values are ignored, as linkerd does.
 */
export function strictestDeadline(values: readonly string[] | undefined): string | undefined {
  if (values === undefined) return undefined;
  let best: { ts: bigint; dl: bigint } | undefined;
  for (const v of values) {
    for (const part of v.split(',')) {
      const m = DEADLINE.exec(part);
      if (m === null) continue;
      const ts = BigInt(m[1]!);
      const dl = BigInt(m[2]!);
      if (best === undefined || dl < best.dl || (dl === best.dl && ts > best.ts)) best = { ts, dl };
    }
  }
  return best === undefined ? undefined : `${best.ts} ${best.dl}`;
}

/** Milliseconds left until the deadline of an `l5d-ctx-deadline` value (negative once past). */
export function deadlineRemainingMs(value: string, nowMs: number = Date.now()): number {
  const m = DEADLINE.exec(value);
  if (m === null) return Infinity;
  return Number(BigInt(m[2]!) / 1_000_000n) - nowMs;
}
