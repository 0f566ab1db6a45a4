// Reading the dtab language: the only file of src/ that imports the grammar.

export {
  parseDentry as readDentry,
  parseDtab as readDtab,
  parseNameTree as readNameTree,
  parsePath as readPath,
  parsePrefix as readPrefix,
  DtabParseError,
  MAX_NESTING,
} from '../../grammar/index.ts';
