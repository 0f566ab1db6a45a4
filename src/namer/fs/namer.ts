// The `io.l5d.fs` namer: a directory tree of address files. `/#/io.l5d.fs/web/extra` binds to
// the file `<rootDir>/web` with residual `/extra`; `/#/io.l5d.fs/prod/api` walks into `prod/`.
// Listings and file contents are watched live and shared by every name that needs them.

import { join, relative } from 'node:path';
import { LRUCache } from 'lru-cache';
import {
  type Activity,
  type ActivityState,
  type Closable,
  derivedActivity,
  derivedVar,
  mapActivity,
  ok,
  PENDING,
  type Use,
  type Var,
} from '../../core/index.ts';
import {
  type Address,
  Addr,
  address,
  addrEquals,
  BoundName,
  boundTreeEquals,
  ENDPOINT_WEIGHT_META_KEY,
  leaf,
  type Name,
  type NameTree,
  Neg,
  Path,
} from '../../dtab/index.ts';
import { inetAddr, ipLiteral } from '../inet.ts';
import type { Namer, NamerContext } from '../namer.ts';
import { type AddrFileEntry, parseAddrFile } from './addr-file.ts';
import { type DirRecord, dirState, recordWatchEvents } from './state.ts';
import { activeWatches, type Listing, watchDir, watchFile, type WatchOptions } from './watch.ts';

/** Names whose answers are kept (the activities themselves run only while observed). */
const LOOKUP_CACHE_SIZE = 10_000;
/** Files whose address sources and bound names are kept. */
const FILE_CACHE_SIZE = 100_000;

const NEG: ActivityState<NameTree<Name>> = ok(Neg);
const NO_META = Object.freeze({});

/** An element that cannot name an entry of a directory. */
function unusable(name: string): boolean {
  return name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0');
}

export class FsNamer implements Namer {
  readonly #root: string;
  readonly #ctx: NamerContext;
  readonly #watch: WatchOptions;
  readonly #lookups = new LRUCache<string, Activity<NameTree<Name>>>({ max: LOOKUP_CACHE_SIZE });
  // One listing source per directory: however many names live in it, it is read once per change.
  readonly #listings = new Map<string, Activity<Listing>>();
  readonly #addrs = new LRUCache<string, Var<Addr>>({ max: FILE_CACHE_SIZE });
  readonly #bound = new LRUCache<string, BoundName>({ max: FILE_CACHE_SIZE });
  /** When each directory's listing was last read, and what it held (`/namer_state`). */
  readonly #records = new Map<string, DirRecord>();
  /** Names looked up, for `namer/<prefix>/lookups`. */
  #lookupCount = 0;

  constructor(rootDir: string, ctx: NamerContext, options: { notify?: boolean } = {}) {
    this.#root = rootDir;
    this.#ctx = ctx;
    this.#watch = { rescanIntervalMs: ctx.rescanIntervalMs, log: ctx.log, notify: options.notify };
    recordWatchEvents();
  }

  /** linkerd's `/namer_state/<prefix>.json` for fs: the root's events and state, then each subdirectory's. */
  state(): Record<string, unknown> {
    const out: Record<string, unknown> = { rootDir: this.#root, osWatches: activeWatches() };
    for (const [dir, listing] of [...this.#listings].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const s = dirState(dir, this.#records.get(dir), listing.sample());
      if (dir === this.#root) Object.assign(out, s);
      else out[relative(this.#root, dir)] = s;
    }
    return out;
  }

  /** Counts for `namer/<prefix>/...`. */
  stats(): Record<string, number> {
    return { lookups: this.#lookupCount, cached_lookups: this.#lookups.size, directories: this.#listings.size, files: this.#addrs.size };
  }

  lookup(path: Path): Activity<NameTree<Name>> {
    this.#lookupCount++;
    const key = path.show;
    let a = this.#lookups.get(key);
    if (a === undefined) {
      a = derivedActivity((use) => this.#walk(path, use), boundTreeEquals as (x: NameTree<Name>, y: NameTree<Name>) => boolean);
      this.#lookups.set(key, a);
    }
    return a;
  }

  enumerate(timeoutMs: number): Promise<string[]> {
    const listing = this.#listing(this.#root);
    return new Promise((resolve) => {
      let sub: Closable | undefined;
      let done = false;
      const finish = (names: string[]): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const s = sub;
        if (s !== undefined) queueMicrotask(() => s.close());
        resolve(names);
      };
      const timer = setTimeout(() => finish([]), timeoutMs);
      sub = listing.observe((state) => {
        if (state.kind === 'pending') return;
        if (state.kind === 'failed') return finish([]);
        const names: string[] = [];
        for (const [name, kind] of state.value) if (kind === 'file') names.push(this.#ctx.prefix.concat(Path.of(name)).show);
        finish(names.sort());
      });
      if (done) sub.close();
    });
  }

  #walk(path: Path, use: Use): ActivityState<NameTree<Name>> {
    let dir = this.#root;
    for (let i = 0; i < path.size; i++) {
      const name = path.elemText(i);
      if (unusable(name)) return NEG;
      const listing = use(this.#listing(dir));
      if (listing.kind === 'pending') return PENDING;
      // The root gone is an outage (the last good binding serves on); a subdirectory gone
      // between two reads is just not there any more.
      if (listing.kind === 'failed') return i === 0 ? listing : NEG;
      const kind = listing.value.get(name);
      if (kind === 'file') return ok(leaf(this.#boundName(join(dir, name), path.take(i + 1), path.drop(i + 1))));
      if (kind !== 'dir') return NEG;
      dir = join(dir, name);
    }
    // A directory is not a service.
    return NEG;
  }

  #listing(dir: string): Activity<Listing> {
    let l = this.#listings.get(dir);
    if (l === undefined) {
      const record: DirRecord = { lastUpdatedAt: undefined, value: undefined };
      this.#records.set(dir, record);
      // Runs on each new listing while the directory is watched: when it changed, and to what.
      l = mapActivity(watchDir(dir, this.#watch), (listing) => {
        record.lastUpdatedAt = new Date().toISOString();
        record.value = listing;
        return listing;
      });
      this.#listings.set(dir, l);
    }
    return l;
  }

  /** The same name object for the same file and residual, so an edit re-binds nothing. */
  #boundName(file: string, consumed: Path, residual: Path): BoundName {
    const key = `${file}\u0000${residual.show}`;
    let b = this.#bound.get(key);
    if (b === undefined) {
      b = new BoundName(this.#addr(file), this.#ctx.prefix.concat(consumed), residual);
      this.#bound.set(key, b);
    }
    return b;
  }

  #addr(file: string): Var<Addr> {
    let v = this.#addrs.get(file);
    if (v === undefined) {
      v = fileAddr(watchFile(file, this.#watch), this.#ctx);
      this.#addrs.set(file, v);
    }
    return v;
  }
}

/**
 * The Addr of an address file: failed while the file is unusable or malformed (naming the
 * line), otherwise bound to its endpoints, host names resolved (and re-resolved) as
 * `/$/inet` resolves them.
 */
function fileAddr(text: Activity<string>, ctx: NamerContext): Var<Addr> {
  let lastText: string | undefined;
  let parsed: AddrFileEntry[] | Error = [];
  let hosts = new Map<string, Var<Addr>>();
  return derivedVar<Addr>(
    Addr.pending,
    (use) => {
      const s = use(text);
      if (s.kind === 'pending') return Addr.pending;
      if (s.kind === 'failed') return Addr.failed(s.error);
      if (s.value !== lastText) {
        lastText = s.value;
        try {
          parsed = parseAddrFile(s.value);
        } catch (e) {
          parsed = e as Error;
        }
        hosts = new Map();
      }
      if (parsed instanceof Error) return Addr.failed(parsed);
      return resolveEntries(parsed, hosts, use, ctx);
    },
    addrEquals,
  );
}

function resolveEntries(entries: readonly AddrFileEntry[], hosts: Map<string, Var<Addr>>, use: Use, ctx: NamerContext): Addr {
  const out: Address[] = [];
  let waiting = false;
  let failure: Error | undefined;
  for (const e of entries) {
    const meta = e.weight === undefined ? NO_META : { [ENDPOINT_WEIGHT_META_KEY]: e.weight };
    const literal = ipLiteral(e.host);
    if (literal !== undefined) {
      out.push(address(literal, e.port, meta));
      continue;
    }
    const key = `${e.host}:${e.port}`;
    let v = hosts.get(key);
    if (v === undefined) hosts.set(key, (v = inetAddr(e.host, e.port, ctx.resolver)));
    const a = use(v);
    if (a.kind === 'bound') for (const x of a.addrs) out.push(address(x.host, x.port, meta));
    else if (a.kind === 'pending') waiting = true;
    else if (a.kind === 'failed') failure ??= new Error(`${e.host}: ${a.error.message}`);
  }
  if (out.length === 0 && waiting) return Addr.pending;
  if (out.length === 0 && failure !== undefined) return Addr.failed(failure);
  return Addr.bound(out);
}
