// What `/namer_state/<prefix>.json` shows of an `io.l5d.fs` namer (linkerd's shape: the root's
// `events` and `state`, then one key per subdirectory with its own): the last change
// notification heard for each directory, and when each listing was last read and what it held.

import { subscribe } from 'node:diagnostics_channel';
import { LRUCache } from 'lru-cache';
import type { ActivityState } from '../../core/index.ts';
import type { Listing } from './watch.ts';

export interface DirEvent {
  readonly lastEventKind: string;
  readonly lastEventName: string | null;
  readonly lastEventAt: string;
}

/** The last OS notification per directory, for every fs namer of the process (bounded). */
const events = new LRUCache<string, DirEvent>({ max: 10_000 });
let listening = false;

/** Starts recording notifications (once per process, on the first fs namer). */
export function recordWatchEvents(): void {
  if (listening) return;
  listening = true;
  subscribe('dtabd:fs.watch', (message) => {
    const m = message as { dir: string; event: string; name: string | null | undefined };
    events.set(m.dir, { lastEventKind: m.event, lastEventName: m.name ?? null, lastEventAt: new Date().toISOString() });
  });
}

/** One directory's listing as last read. */
export interface DirRecord {
  lastUpdatedAt: string | undefined;
  value: Listing | undefined;
}

/** The state of one directory: its last event and its listing. */
export function dirState(dir: string, record: DirRecord | undefined, current: ActivityState<Listing>): Record<string, unknown> {
  const value: Record<string, string> = {};
  const listing = current.kind === 'ok' ? current.value : record?.value;
  if (listing !== undefined) for (const [name, kind] of [...listing].sort((a, b) => (a[0] < b[0] ? -1 : 1))) value[name] = kind;
  return {
    events: events.get(dir) ?? null,
    state: {
      running: current.kind !== 'pending',
      status: current.kind === 'failed' ? `Failed: ${current.error.message}` : current.kind,
      lastUpdatedAt: record?.lastUpdatedAt ?? null,
      value,
    },
  };
}
