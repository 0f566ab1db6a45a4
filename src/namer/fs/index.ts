// The `io.l5d.fs` namer kind, and the file watching the `io.l5d.fs` interpreter also uses for
// its `dtabFile`.

import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigReader } from '../../core/index.ts';
import { readPath } from '../../dtab/index.ts';
import type { NamerKind } from '../namer.ts';
import { FsNamer } from './namer.ts';

export interface FsConfig {
  /** Absolute path of the directory of address files. */
  readonly rootDir: string;
}

function parseConfig(config: ConfigReader): FsConfig {
  const given = config.string('rootDir');
  const rootDir = resolve(given);
  let isDir: boolean;
  try {
    isDir = statSync(rootDir).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw config.error('rootDir', code === 'ENOENT' ? `${given} does not exist` : `${given} cannot be read: ${(e as Error).message}`);
  }
  if (!isDir) throw config.error('rootDir', `${given} is not a directory`);
  return { rootDir };
}

export const fsNamerKind: NamerKind<FsConfig> = {
  kind: 'io.l5d.fs',
  defaultPrefix: readPath('/io.l5d.fs'),
  parseConfig,
  create: (config, ctx) => new FsNamer(config.rootDir, ctx),
};

export { FsNamer } from './namer.ts';
export { AddrFileError, parseAddrFile } from './addr-file.ts';
export type { AddrFileEntry } from './addr-file.ts';
export { activeWatches, COALESCE_MS, MAX_FILE_BYTES, watchDir, watchEvents, watchFile } from './watch.ts';
export type { EntryKind, Listing, WatchOptions } from './watch.ts';
