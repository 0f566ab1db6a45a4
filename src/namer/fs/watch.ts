// Live views of files and directories: the text of a file and the entries of a directory, as
// activities. Change notification (fs.watch, one per directory however many observe it) makes
// updates fast; a periodic rescan makes them certain, since notification is not reliable on
// every filesystem (network mounts, some container volumes, a watch limit reached). Nothing
// here throws: a missing, unreadable or oversized file is a failed state, and recovers.

import { channel } from 'node:diagnostics_channel';
import { type FSWatcher, statSync, watch } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join as joinPath } from 'node:path';
import {
  type Activity,
  type ActivityState,
  asError,
  asyncVar,
  type Closable,
  type Equals,
  failed,
  type Log,
  ok,
  PENDING,
  stateEquals,
} from '../../core/index.ts';

/** Files larger than this are refused (linkerd's limit for address files). */
export const MAX_FILE_BYTES = 500 * 1024;

/** Events arriving within this many ms of the first are handled by one read. */
export const COALESCE_MS = 2;

export interface WatchOptions {
  /** How often to look again whatever the notifications say, in ms. */
  readonly rescanIntervalMs: number;
  readonly log: Log;
  /** Use change notification (true); false relies on the rescan alone. */
  readonly notify?: boolean;
}

type EventKind = 'rename' | 'change' | undefined;
type Listener = (kind: EventKind, name: string | undefined) => void;

/** Everything watching one directory: the OS watch and its listeners, and the shared rescan. */
interface DirWatch {
  readonly dir: string;
  readonly log: Log;
  watcher: FSWatcher | undefined;
  /**
   * Which directory the OS watch was opened on (inode and birth time: a freed inode is soon
   * reused). One deleted and made again under the same name is another directory, and a
   * watch of the old one hears nothing more: it must be opened again.
   */
  identity: string | undefined;
  /** A failure to watch has been logged and no watch has opened since (one warning per outage). */
  warned: boolean;
  readonly listeners: Set<Listener>;
  /** Called each rescan, {@link SCAN_CHUNK} per turn of the event loop. */
  readonly scanners: Set<() => void>;
  timer: NodeJS.Timeout | undefined;
  scanning: boolean;
}

/**
 * Rescan probes run this many per turn of the event loop. A probe is one synchronous stat
 * (about 2.4 µs on an idle machine; the asynchronous one costs over ten times the CPU, which
 * for 10,000 files each second is a quarter of a core). Under load a turn of 100 held the
 * event loop about half a millisecond, and with 1,000 files the rescan's turns ran back to
 * back for 4-7 ms each second (bench/RESULTS.md); a turn of 20 holds it about 0.1 ms, and
 * requests are served between turns. The turns cost: with 10,000 files about two points of a
 * core more than at 100.
 */
const SCAN_CHUNK = 20;

const dirWatches = new Map<string, DirWatch>();

/**
 * Told `{ dir, event, name }` as each OS notification arrives, before any reading: lets a
 * benchmark or a trace time what follows. Costs nothing without subscribers.
 */
export const watchEvents = channel('dtabd:fs.watch');
let osWatches = 0;

/** How many OS-level watches are open (for tests and state pages). */
export function activeWatches(): number {
  return osWatches;
}

function stopWatch(w: DirWatch): void {
  if (w.watcher === undefined) return;
  w.watcher.close();
  w.watcher = undefined;
  osWatches--;
}

/** Opens the OS watch of `w.dir` if it has listeners and none is open; failure leaves the rescan. */
function ensureWatch(w: DirWatch): void {
  if (w.watcher !== undefined || w.listeners.size === 0) return;
  const { dir, log } = w;
  let watcher: FSWatcher;
  let identity: string;
  try {
    // Which directory first: one replaced after this stat is caught by the next check.
    identity = identityOf(statSync(dir));
    // Not persistent: watching must not keep the process alive.
    watcher = watch(dir, { persistent: false }, (event, name) => {
      if (watchEvents.hasSubscribers) watchEvents.publish({ dir, event, name });
      if (event === 'rename' && name === basename(dir)) {
        // Most likely the directory itself deleted or moved (or else an entry of the same
        // name): its watch is dead, and whatever now stands at its path is news to every
        // reader. Reopened without asking which, since a replacement may look the same.
        if (w.watcher === watcher) stopWatch(w);
        checkWatch(w);
        for (const l of w.listeners) l(undefined, undefined);
        return;
      }
      for (const l of w.listeners) l(event, name ?? undefined);
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A missing directory is the reader's to report; running out of watches (EMFILE, ENOSPC)
    // or anything else is said once, and retried on each rescan.
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && !w.warned) {
      w.warned = true;
      log.warn({ dir, error: asError(e).message }, 'cannot watch directory; relying on the rescan');
    }
    return;
  }
  osWatches++;
  w.watcher = watcher;
  w.identity = identity;
  w.warned = false;
  watcher.on('error', (e) => {
    if (!w.warned) {
      w.warned = true;
      log.warn({ dir, error: e.message }, 'directory watch failed; relying on the rescan');
    }
    if (w.watcher === watcher) stopWatch(w);
    // What the watch missed is unknown: every reader looks again.
    for (const l of w.listeners) l(undefined, undefined);
  });
}

/**
 * Makes the OS watch match the directory as it is now: closed when the directory is gone,
 * reopened when it is another directory (deleted and made again), opened when an earlier
 * attempt failed. One stat.
 */
function checkWatch(w: DirWatch): void {
  if (w.listeners.size === 0) return;
  let identity: string | undefined;
  try {
    const st = statSync(w.dir, { throwIfNoEntry: false });
    identity = st === undefined ? undefined : identityOf(st);
  } catch {
    identity = undefined;
  }
  if (identity === undefined) {
    stopWatch(w);
    return;
  }
  if (w.watcher !== undefined && w.identity !== identity) stopWatch(w);
  ensureWatch(w);
}

function identityOf(st: { ino: number; birthtimeMs: number }): string {
  return `${st.ino}:${st.birthtimeMs}`;
}

/** One rescan of a directory: every scanner, a chunk per turn of the event loop. */
function rescan(w: DirWatch): void {
  // A rescan slower than the interval (a slow mount) is not stacked on by the next.
  if (w.scanning) return;
  w.scanning = true;
  try {
    checkWatch(w);
  } catch {
    // Only a logger that throws gets here; the files are scanned all the same.
  }
  const all = [...w.scanners];
  const chunk = (from: number): void => {
    const to = Math.min(all.length, from + SCAN_CHUNK);
    try {
      for (let i = from; i < to; i++) if (w.scanners.has(all[i]!)) all[i]!();
    } finally {
      if (to < all.length) setImmediate(chunk, to);
      else w.scanning = false;
    }
  };
  chunk(0);
}

interface WatchHandle extends Closable {
  /** The directory exists: make sure it is watched. */
  present(): void;
  /** The directory is gone: drop its watch, which cannot see it come back. */
  gone(): void;
}

/**
 * Joins the watch of `dir`: `listener` hears OS notifications (unless `options.notify` is
 * false) and `scan` runs on the directory's rescan, which the first to join sets the pace of.
 */
function join(dir: string, listener: Listener, scan: () => void, options: WatchOptions): WatchHandle {
  let w = dirWatches.get(dir);
  if (w === undefined) {
    w = { dir, log: options.log, watcher: undefined, identity: undefined, warned: false, listeners: new Set(), scanners: new Set(), timer: undefined, scanning: false };
    dirWatches.set(dir, w);
  }
  const entry = w;
  const notify = options.notify !== false;
  if (notify) entry.listeners.add(listener);
  entry.scanners.add(scan);
  if (entry.timer === undefined) {
    entry.timer = setInterval(rescan, options.rescanIntervalMs, entry);
    entry.timer.unref();
  }
  ensureWatch(entry);
  return {
    present: () => checkWatch(entry),
    gone: () => stopWatch(entry),
    close: () => {
      entry.listeners.delete(listener);
      entry.scanners.delete(scan);
      if (entry.listeners.size === 0) stopWatch(entry);
      if (entry.scanners.size === 0) {
        clearInterval(entry.timer);
        entry.timer = undefined;
        if (dirWatches.get(dir) === entry) dirWatches.delete(dir);
      }
    },
  };
}

/**
 * How a polled view reads. `check` reads the current state; `force` is set when a
 * notification says something changed, and without it `check` may answer `undefined` for
 * "unchanged" without reading. `changed`, if given, is a cheap synchronous probe the rescan
 * calls first, so that an unchanged file costs one stat and no promise.
 */
interface Reader<T> {
  check(force: boolean, handle: WatchHandle | undefined): Promise<ActivityState<T> | undefined>;
  changed?(): boolean;
}

/**
 * An activity kept current by a reader: read when first observed, on the notifications `wants`
 * accepts (coalesced), and on each rescan of the directory; never two reads at once. Stops
 * everything when the last observer leaves.
 */
function polled<T>(
  dir: string,
  wants: (kind: EventKind, name: string | undefined) => boolean,
  makeReader: () => Reader<T>,
  options: WatchOptions,
  equals: Equals<T>,
): Activity<T> {
  return asyncVar<ActivityState<T>>(
    PENDING,
    (update) => {
      const reader = makeReader();
      let closed = false;
      let running = false;
      let again = false;
      let forceNext = true;
      let soon: NodeJS.Timeout | undefined;
      let handle: WatchHandle | undefined;
      const run = async (force: boolean): Promise<void> => {
        forceNext ||= force;
        if (running) {
          again = true;
          return;
        }
        running = true;
        try {
          do {
            again = false;
            const f = forceNext;
            forceNext = false;
            let s: ActivityState<T> | undefined;
            try {
              s = await reader.check(f, handle);
            } catch (e) {
              s = failed(asError(e));
            }
            if (closed) return;
            if (s !== undefined) update(s);
          } while (again && !closed);
        } finally {
          running = false;
        }
      };
      // An observer that throws must not take the process down with an unhandled rejection.
      const start = (force: boolean): void => {
        run(force).catch((e: unknown) => options.log.error({ dir, error: asError(e).message }, 'observer of a watched path failed'));
      };
      const onEvent: Listener = (kind, name) => {
        if (closed || !wants(kind, name)) return;
        forceNext = true;
        if (soon !== undefined) return;
        soon = setTimeout(() => {
          soon = undefined;
          start(true);
        }, COALESCE_MS);
        soon.unref();
      };
      const onScan = (): void => {
        if (!closed && !running && (reader.changed === undefined || reader.changed())) start(false);
      };
      handle = join(dir, onEvent, onScan, options);
      start(true);
      return {
        close() {
          closed = true;
          if (soon !== undefined) clearTimeout(soon);
          handle?.close();
        },
      };
    },
    stateEquals(equals),
  );
}

function describe(path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new Error(`${path} does not exist`);
  if (code === 'ELOOP') return new Error(`${path}: too many levels of symbolic links`);
  if (code === 'EACCES') return new Error(`${path}: permission denied`);
  return new Error(`${path}: ${asError(e).message}`);
}

const textEquals: Equals<string> = (a, b) => a === b;

/**
 * The text of `file` (an absolute path), live: pending until first read, then the text, or
 * failed when the file is missing, not a regular file, unreadable or over
 * {@link MAX_FILE_BYTES}. An edit reaches observers within a few ms when notification works,
 * and within `rescanIntervalMs` when it does not.
 */
export function watchFile(file: string, options: WatchOptions): Activity<string> {
  const name = basename(file);
  return polled<string>(
    dirname(file),
    (kind, n) => n === undefined || n === name || kind === undefined,
    (): Reader<string> => {
      let signature: string | undefined;
      const signatureOf = (st: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string =>
        `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
      return {
        changed() {
          let st;
          try {
            st = statSync(file, { throwIfNoEntry: false });
          } catch {
            // Unreadable now: let the full check report it.
            return true;
          }
          return st === undefined ? signature !== undefined : signatureOf(st) !== signature;
        },
        async check(force, handle) {
          let st;
          try {
            st = await stat(file);
          } catch (e) {
            signature = undefined;
            return failed(describe(file, e));
          }
          handle?.present();
          if (!st.isFile()) return failed(new Error(`${file} is not a regular file`));
          if (st.size > MAX_FILE_BYTES) return failed(new Error(`file ${file} is ${st.size} bytes, over the 500 KB limit`));
          const sig = signatureOf(st);
          if (!force && sig === signature) return undefined;
          let text: string;
          try {
            text = await readFile(file, 'utf8');
          } catch (e) {
            signature = undefined;
            return failed(describe(file, e));
          }
          if (Buffer.byteLength(text) > MAX_FILE_BYTES) {
            return failed(new Error(`file ${file} is over the 500 KB limit`));
          }
          signature = sig;
          return ok(text);
        },
      };
    },
    options,
    textEquals,
  );
}

/** What a directory entry is, symbolic links followed; `other` for sockets, loops and the like. */
export type EntryKind = 'file' | 'dir' | 'other';
export type Listing = ReadonlyMap<string, EntryKind>;

function listingEquals(a: Listing, b: Listing): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

async function linkKind(path: string): Promise<EntryKind> {
  try {
    const st = await stat(path);
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  } catch {
    // A dangling link or a loop: nothing to bind.
    return 'other';
  }
}

/**
 * The entries of directory `dir`, live: a created, deleted or renamed entry reaches observers
 * within a few ms (or a rescan). A missing or unreadable directory is failed, and recovers
 * when it comes back. Content changes of files inside do not touch the listing.
 */
export function watchDir(dir: string, options: WatchOptions): Activity<Listing> {
  return polled<Listing>(
    dir,
    (kind) => kind !== 'change',
    (): Reader<Listing> => ({
      async check(_force, handle) {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (e) {
          handle?.gone();
          return failed(describe(dir, e));
        }
        handle?.present();
        const out = new Map<string, EntryKind>();
        for (const e of entries) {
          const kind: EntryKind = e.isFile()
            ? 'file'
            : e.isDirectory()
              ? 'dir'
              : e.isSymbolicLink()
                ? await linkKind(joinPath(dir, e.name))
                : 'other';
          out.set(e.name, kind);
        }
        return ok(out);
      },
    }),
    options,
    listingEquals,
  );
}
