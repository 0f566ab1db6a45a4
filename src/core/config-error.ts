// Configuration errors and a reader for one config object. Every part that takes configuration
// (namers, transformers, interpreters, routers) reads its own keys with ConfigReader, so an
// error always names the key path where it stands, e.g. `namers[0].rootDir`.

/** A configuration value that cannot be used. `at` is the key path, e.g. `routers[1].dtab`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly at: string;
  readonly detail: string;

  constructor(at: string, detail: string) {
    super(at === '' ? detail : `${at}: ${detail}`);
    this.at = at;
    this.detail = detail;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * Reads the keys of one config object, checking types, and at the end ({@link done}) rejects
 * any key nobody read, as linkerd rejects unknown properties.
 */
export class ConfigReader {
  readonly at: string;
  readonly #obj: Readonly<Record<string, unknown>>;
  readonly #read = new Set<string>();

  constructor(value: unknown, at: string) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ConfigError(at, `expected an object, found ${describe(value)}`);
    }
    this.#obj = value as Record<string, unknown>;
    this.at = at;
  }

  /** The key path of `key` in this object. */
  keyAt(key: string): string {
    return this.at === '' ? key : `${this.at}.${key}`;
  }

  has(key: string): boolean {
    return this.#obj[key] !== undefined && this.#obj[key] !== null;
  }

  /** The raw value of `key` (marked as read). */
  raw(key: string): unknown {
    this.#read.add(key);
    const v = this.#obj[key];
    return v === null ? undefined : v;
  }

  error(key: string, detail: string): ConfigError {
    return new ConfigError(this.keyAt(key), detail);
  }

  string(key: string): string {
    const v = this.optionalString(key);
    if (v === undefined) throw this.error(key, 'is required');
    return v;
  }

  optionalString(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    // YAML turns `port: 8080` or `name: 1.0` into numbers where a string is meant.
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (typeof v !== 'string') throw this.error(key, `expected a string, found ${describe(v)}`);
    return v;
  }

  integer(key: string, min: number, max: number): number {
    const v = this.optionalInteger(key, min, max);
    if (v === undefined) throw this.error(key, 'is required');
    return v;
  }

  optionalInteger(key: string, min: number, max: number): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const n = typeof v === 'string' && /^-?[0-9]+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw this.error(key, `expected an integer, found ${describe(v)}`);
    if (n < min || n > max) throw this.error(key, `must be between ${min} and ${max}, found ${n}`);
    return n;
  }

  /** A finite number within [min, max], or undefined when absent. */
  optionalNumber(key: string, min: number, max: number): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.error(key, `expected a number, found ${describe(v)}`);
    if (v < min || v > max) throw this.error(key, `must be between ${min} and ${max}, found ${v}`);
    return v;
  }

  optionalBoolean(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw this.error(key, `expected true or false, found ${describe(v)}`);
    return v;
  }

  /** A list under `key`, each item with its own key path (`key[i]`). */
  optionalList(key: string): { value: unknown; at: string }[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw this.error(key, `expected a list, found ${describe(v)}`);
    return v.map((value, i) => ({ value, at: `${this.keyAt(key)}[${i}]` }));
  }

  /** Marks keys as known without reading them (e.g. documented keys with no effect here). */
  ignore(...keys: string[]): void {
    for (const k of keys) this.#read.add(k);
  }

  /**
   * Marks keys as known and gives the key paths of those present: documented keys that have
   * no effect yet, which the caller reports rather than silently dropping.
   */
  present(...keys: string[]): string[] {
    this.ignore(...keys);
    return keys.filter((k) => this.has(k)).map((k) => this.keyAt(k));
  }

  /** Throws for the first key that was never read: linkerd rejects unknown properties. */
  done(): void {
    for (const k of Object.keys(this.#obj)) {
      if (!this.#read.has(k)) throw new ConfigError(this.keyAt(k), 'unknown key');
    }
  }
}
