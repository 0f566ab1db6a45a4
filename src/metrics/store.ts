// Where a registry's numbers live: pages of shared memory that the export thread reads while
// the event loop goes on counting. A counter or a gauge is one float64 slot (a sum gauge's
// slot only names it: its value is the sum of unnamed slots, cells, such as an endpoint's
// load); a histogram is a slot (its handle, naming its block once it has values) and a block
// of buckets and per-slice statistics. Pages are made as metrics come and are never given
// back; slots and blocks freed by pruned scopes and retired endpoints are used again, but not
// while an export is reading (it would print a new metric's number under an old metric's name).

/** Float64 slots per page of scalars (64 KiB). */
const SCALARS_PER_PAGE = 8192;
const SCALAR_SHIFT = 13;
/** Histogram blocks per page. */
const BLOCKS_PER_PAGE = 16;
const BLOCK_SHIFT = 4;

/** One histogram's numbers: float64s from `fo` in `f`, uint32s from `uo` in `u` (layout in histogram.ts). */
export interface Block {
  readonly f: Float64Array;
  readonly fo: number;
  readonly u: Uint32Array;
  readonly uo: number;
}

/** A page as the export thread is sent it. */
export interface PageMessage {
  readonly page: 'scalar' | 'block';
  readonly index: number;
  readonly memory: SharedArrayBuffer;
}

/** The sizes of one block for `slices` slices of `buckets` buckets. */
export function blockSize(slices: number, buckets: number): { f64: number; u32: number } {
  // Float64s: the current slice's epoch, the stamp, then count, sum, min, max per slice.
  // Uint32s: the bucket counts slice after slice, then the live slices' totals.
  return { f64: 2 + 4 * slices, u32: buckets * (slices + 1) };
}

export class MetricStore {
  readonly #f64: number;
  readonly #u32: number;
  readonly #scalars: Float64Array[] = [];
  readonly #blocks: { f: Float64Array; u: Uint32Array }[] = [];
  /** The next slot and block never used. */
  #nextSlot = 0;
  #nextBlock = 0;
  readonly #freeSlots: number[] = [];
  readonly #freeBlocks: number[] = [];
  /** Freed while an export was reading: free once none is. */
  #parkedSlots: number[] = [];
  #parkedBlocks: number[] = [];
  #readers = 0;
  /** Told of each page made (the export thread is sent it). */
  onPage: ((p: PageMessage) => void) | undefined;

  /** A store for histograms of `slices` slices of `buckets` buckets. */
  constructor(slices: number, buckets: number) {
    const size = blockSize(slices, buckets);
    this.#f64 = size.f64;
    this.#u32 = size.u32;
  }

  /** The pages made so far, for a thread that starts reading now. */
  pages(): PageMessage[] {
    const out: PageMessage[] = [];
    this.#scalars.forEach((p, index) => out.push({ page: 'scalar', index, memory: p.buffer as SharedArrayBuffer }));
    this.#blocks.forEach((p, index) => out.push({ page: 'block', index, memory: p.f.buffer as SharedArrayBuffer }));
    return out;
  }

  /** Takes a page made by another thread's store (the export thread's copy of the pages). */
  adopt(p: PageMessage): void {
    if (p.page === 'scalar') this.#scalars[p.index] = new Float64Array(p.memory);
    else this.#blocks[p.index] = this.#blockViews(p.memory);
  }

  #blockViews(memory: SharedArrayBuffer): { f: Float64Array; u: Uint32Array } {
    const fBytes = BLOCKS_PER_PAGE * this.#f64 * 8;
    return { f: new Float64Array(memory, 0, BLOCKS_PER_PAGE * this.#f64), u: new Uint32Array(memory, fBytes, BLOCKS_PER_PAGE * this.#u32) };
  }

  /** A free scalar slot, zeroed. */
  slot(): number {
    const reused = this.#freeSlots.pop();
    if (reused !== undefined) {
      this.#scalars[reused >> SCALAR_SHIFT]![reused & (SCALARS_PER_PAGE - 1)] = 0;
      return reused;
    }
    const s = this.#nextSlot++;
    const page = s >> SCALAR_SHIFT;
    if (page === this.#scalars.length) {
      const memory = new SharedArrayBuffer(SCALARS_PER_PAGE * 8);
      this.#scalars.push(new Float64Array(memory));
      this.onPage?.({ page: 'scalar', index: page, memory });
    }
    return s;
  }

  /** The page holding `slot`, and its index there. */
  scalarPage(slot: number): Float64Array | undefined {
    return this.#scalars[slot >> SCALAR_SHIFT];
  }

  /** The page holding `slot` and its index there (the slot must exist). */
  locate(slot: number): { page: Float64Array; index: number } {
    return { page: this.#scalars[slot >> SCALAR_SHIFT]!, index: slot & (SCALARS_PER_PAGE - 1) };
  }

  static indexOf(slot: number): number {
    return slot & (SCALARS_PER_PAGE - 1);
  }

  read(slot: number): number {
    return this.#scalars[slot >> SCALAR_SHIFT]?.[slot & (SCALARS_PER_PAGE - 1)] ?? 0;
  }

  write(slot: number, v: number): void {
    this.#scalars[slot >> SCALAR_SHIFT]![slot & (SCALARS_PER_PAGE - 1)] = v;
  }

  /** A free histogram block, zeroed (a reader sees no values in it until its user writes some). */
  block(): number {
    const reused = this.#freeBlocks.pop();
    if (reused !== undefined) {
      const b = this.blockAt(reused)!;
      b.f.fill(0, b.fo, b.fo + this.#f64);
      b.u.fill(0, b.uo, b.uo + this.#u32);
      return reused;
    }
    const b = this.#nextBlock++;
    const page = b >> BLOCK_SHIFT;
    if (page === this.#blocks.length) {
      const memory = new SharedArrayBuffer(BLOCKS_PER_PAGE * (this.#f64 * 8 + this.#u32 * 4));
      this.#blocks.push(this.#blockViews(memory));
      this.onPage?.({ page: 'block', index: page, memory });
    }
    return b;
  }

  /** Block `id`'s memory; undefined when its page has not reached this thread yet. */
  blockAt(id: number): Block | undefined {
    const p = this.#blocks[id >> BLOCK_SHIFT];
    if (p === undefined) return undefined;
    const i = id & (BLOCKS_PER_PAGE - 1);
    return { f: p.f, fo: i * this.#f64, u: p.u, uo: i * this.#u32 };
  }

  /** The float64s of block `id`'s page, without making an object (exporters read stamps this way). */
  blockFloats(id: number): Float64Array | undefined {
    return this.#blocks[id >> BLOCK_SHIFT]?.f;
  }

  /** Where block `id`'s float64s start in {@link blockFloats}. */
  blockFloatOffset(id: number): number {
    return (id & (BLOCKS_PER_PAGE - 1)) * this.#f64;
  }

  release(slot: number): void {
    if (this.#readers > 0) this.#parkedSlots.push(slot);
    else this.#freeSlots.push(slot);
  }

  releaseBlock(id: number): void {
    if (this.#readers > 0) this.#parkedBlocks.push(id);
    else this.#freeBlocks.push(id);
  }

  /** An export starts reading: nothing freed from now is used again until it is done. */
  hold(): void {
    this.#readers++;
  }

  /** An export is done. */
  unhold(): void {
    if (this.#readers === 0) return;
    if (--this.#readers > 0) return;
    for (const s of this.#parkedSlots) this.#freeSlots.push(s);
    for (const b of this.#parkedBlocks) this.#freeBlocks.push(b);
    this.#parkedSlots = [];
    this.#parkedBlocks = [];
  }
}
