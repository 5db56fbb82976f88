// Reads the usage guide's samples out of the guide itself, so that the tests run exactly what a
// user would copy: the curl commands as argument vectors, the Python client as source text.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository's copy of the user's guide (the spec's `usage-guide.ja.md`, byte for byte). */
export const GUIDE_PATH = fileURLToPath(new URL('../../../docs/usage-guide.ja.md', import.meta.url));
/** Where the spec keeps the original, next to the repository, when it is checked out there. */
export const SPEC_GUIDE_PATH = fileURLToPath(new URL('../../../../shared/spec/usage-guide.ja.md', import.meta.url));

/** The only text the guide's samples may have replaced: the host the guide assumes. */
export const GUIDE_HOST = 'keruta-api:8080';

export function readGuide(): string {
  return readFileSync(GUIDE_PATH, 'utf8');
}

/**
 * The lines under `heading` up to the next heading of the same or a higher level. Lines inside
 * fenced code blocks are never headings (a bash comment starts with `# ` too).
 */
export function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const level = /^#+/.exec(heading)?.[0].length ?? 0;
  let inFence = false;
  let start: number | undefined;
  for (const [i, line] of lines.entries()) {
    if (line.trimStart().startsWith('```')) {
      inFence = !inFence;
      continue;
    }
    if (inFence) continue;
    if (start === undefined) {
      if (line.trim() === heading) start = i + 1;
      continue;
    }
    const hashes = /^(#+) /.exec(line)?.[1]?.length;
    if (hashes !== undefined && hashes <= level) return lines.slice(start, i).join('\n');
  }
  if (start === undefined) throw new Error(`the guide has no heading ${JSON.stringify(heading)}`);
  return lines.slice(start).join('\n');
}

/** The bodies of the fenced code blocks tagged `language`, in order. */
export function codeBlocks(markdown: string, language: string): string[] {
  const blocks: string[] = [];
  let current: string[] | undefined;
  for (const line of markdown.split('\n')) {
    if (current === undefined) {
      if (line.trim() === `\`\`\`${language}`) current = [];
    } else if (line.trim() === '```') {
      blocks.push(current.join('\n'));
      current = undefined;
    } else {
      current.push(line);
    }
  }
  if (current !== undefined) throw new Error(`an unterminated \`\`\`${language} block`);
  return blocks;
}

export interface ShellCommand {
  /** The comment line above the command in the guide, e.g. `# タスクログ一覧取得`. */
  comment: string;
  /** The command as the shell would split it: `['curl', '-X', 'GET', …]`. */
  words: string[];
}

/** The commands of a bash block: comments kept as labels, `\` continuations joined. */
export function shellCommands(block: string): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let comment = '';
  const lines = block.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] ?? '';
    if (line.trim() === '') continue;
    if (line.trim().startsWith('#')) {
      comment = line.trim();
      continue;
    }
    while (line.trimEnd().endsWith('\\')) {
      const next = lines[++i];
      if (next === undefined) throw new Error(`a continuation with no next line: ${line}`);
      line = `${line.trimEnd().slice(0, -1)} ${next}`;
    }
    commands.push({ comment, words: shellWords(line) });
  }
  return commands;
}

/**
 * Splits a command line into words as a POSIX shell does for the plain subset the guide uses:
 * blanks, '…', "…" with its four escapes, and backslashes. Anything the shell would expand or
 * redirect (unquoted $ ` | & ; < > ( ) * ? [ { ~, or $ ` inside "…") is refused rather than guessed at.
 */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const refuse = (what: string): never => {
    throw new Error(`shellWords: ${what} in ${JSON.stringify(command)} is not supported`);
  };
  for (let i = 0; i < command.length; i++) {
    const c = command.charAt(i);
    if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    word ??= '';
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) refuse('an unterminated single quote');
      word += command.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      for (i++; ; i++) {
        if (i >= command.length) refuse('an unterminated double quote');
        let d = command.charAt(i);
        if (d === '"') break;
        if (d === '$' || d === '`') refuse(`${d} inside double quotes`);
        if (d === '\\' && '"\\$`'.includes(command.charAt(i + 1))) d = command.charAt(++i);
        word += d;
      }
    } else if (c === '\\') {
      if (i + 1 >= command.length) refuse('a trailing backslash');
      word += command.charAt(++i);
    } else if ('$`|&;<>()*?[{~'.includes(c) || (c === '#' && word === '')) {
      refuse(`an unquoted ${c}`);
    } else {
      word += c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Every curl command of the guide's "REST API 使用例 / cURL コマンド例" section, in order. */
export function guideCurlCommands(guide: string): ShellCommand[] {
  const restSection = section(guide, '## REST API 使用例');
  return codeBlocks(section(restSection, '### cURL コマンド例'), 'bash').flatMap(shellCommands);
}

export interface PythonSample {
  /** Everything above `# 使用例`: the imports and the two client classes. */
  classes: string;
  /** The whole block, with its `if __name__ == "__main__":` usage example. */
  whole: string;
}

/** The guide's "Python クライアント例" block, split where its usage example begins. */
export function guidePythonSample(guide: string): PythonSample {
  const blocks = codeBlocks(section(section(guide, '## REST API 使用例'), '### Python クライアント例'), 'python');
  if (blocks.length !== 1) throw new Error(`expected one python block in the guide, found ${blocks.length}`);
  const whole = `${blocks[0] ?? ''}\n`;
  const marker = whole.search(/^# 使用例$/m);
  if (marker < 0) throw new Error('the python block has no "# 使用例" line');
  const classes = whole.slice(0, marker);
  if (classes.includes('__main__')) throw new Error('the usage example starts above "# 使用例"');
  return { classes, whole };
}

/** Replaces the guide's host, and nothing else, with `hostAndPort` (e.g. 127.0.0.1:40123). */
export function withHost(text: string, hostAndPort: string): string {
  return text.replaceAll(GUIDE_HOST, hostAndPort);
}
