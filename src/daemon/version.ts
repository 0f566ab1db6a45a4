// dtabd's version, from its package.json (found from src/ and from the built dist/src/).

import { readFileSync } from 'node:fs';

function read(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const p = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (p.name === 'dtabd' && typeof p.version === 'string') return p.version;
    } catch {
      // Not there: the other layout.
    }
  }
  return 'unknown';
}

export const VERSION = read();
