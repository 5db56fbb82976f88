// Reads the labelled corpus in test/fixtures/levels/*.tsv: real output of common tools, each line
// labelled with the level a person reading a CI log would give it (fixtures/levels/README.md).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogLevel } from '@keruta/protocol';

export interface LabelledLine {
  readonly expected: LogLevel;
  readonly line: string;
  /** Where it is written: `file.tsv:line`. */
  readonly where: string;
}

/** One stream of output (a `### …` sample): its lines go through one detector, in order. */
export interface CorpusStream {
  readonly name: string;
  readonly lines: readonly LabelledLine[];
}

export const CORPUS_DIR = join(import.meta.dirname, 'fixtures', 'levels');
const LEVELS: readonly string[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** `\e` is ESC and `\t` a tab in a labelled line; everything else is as printed. */
const decode = (text: string): string => text.replaceAll('\\e', '\x1b').replaceAll('\\t', '\t');

export function readCorpus(dir = CORPUS_DIR): CorpusStream[] {
  const streams: CorpusStream[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.tsv')).sort()) {
    let current: { name: string; lines: LabelledLine[] } | undefined;
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .forEach((row, index) => {
        if (row.startsWith('### ')) {
          current = { name: `${file}: ${row.slice(4)}`, lines: [] };
          streams.push(current);
          return;
        }
        if (row === '' || row.startsWith('#')) return;
        const tab = row.indexOf('\t');
        const expected = row.slice(0, tab);
        if (tab === -1 || !LEVELS.includes(expected) || current === undefined) throw new Error(`${file}:${index + 1}: not LEVEL<TAB>line inside a ### stream`);
        current.lines.push({ expected: expected as LogLevel, line: decode(row.slice(tab + 1)), where: `${file}:${index + 1}` });
      });
  }
  return streams;
}
