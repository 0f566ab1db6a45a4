// linkerd's `io.l5d.recentRequests` telemeter: a sample of finished requests (a share
// `sampleRate` of them) kept in a ring of `capacity`, newest first on the admin `/requests`
// page. Unsampled requests cost one random number.

export interface RecentRequest {
  /** When it finished, ms since the epoch. */
  readonly timestamp: number;
  readonly router: string;
  readonly source: string;
  readonly method: string;
  readonly host: string | undefined;
  readonly uri: string;
  /** The logical name (`/svc/web`), when it was identified. */
  readonly name: string | undefined;
  /** The request's own dtab (`l5d-ctx-dtab` and `l5d-dtab`), when it had one. */
  readonly dtab: string | undefined;
  /** The bound name it went to (`/#/io.l5d.fs/web`). */
  readonly client: string | undefined;
  /** The endpoint of its last attempt (`127.0.0.1:8080`). */
  readonly endpoint: string | undefined;
  readonly status: number;
  readonly latencyMs: number;
}

export class RecentRequests {
  sampleRate = 0;
  capacity = 0;
  #ring: (RecentRequest | undefined)[] = [];
  #next = 0;

  constructor(sampleRate = 0, capacity = 0) {
    this.configure(sampleRate, capacity);
  }

  /** Whether the telemeter is configured (a capacity above 0). */
  get enabled(): boolean {
    return this.capacity > 0;
  }

  /** Sets the share kept and the ring's size (a new size starts the ring afresh). */
  configure(sampleRate: number, capacity: number): void {
    this.sampleRate = capacity > 0 ? sampleRate : 0;
    if (capacity !== this.capacity) {
      this.capacity = capacity;
      this.#ring = new Array<RecentRequest | undefined>(capacity).fill(undefined);
      this.#next = 0;
    }
  }

  /** Whether the next finished request is kept. */
  sampled(): boolean {
    return this.sampleRate >= 1 || (this.sampleRate > 0 && Math.random() < this.sampleRate);
  }

  add(r: RecentRequest): void {
    this.#ring[this.#next] = r;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** The sample, newest first. */
  list(): RecentRequest[] {
    const out: RecentRequest[] = [];
    for (let i = 1; i <= this.capacity; i++) {
      const r = this.#ring[(this.#next - i + this.capacity) % this.capacity];
      if (r !== undefined) out.push(r);
    }
    return out;
  }
}
