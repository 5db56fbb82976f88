// Layering: for each setting, the first of its flag, its variable and its config-file key that is
// given, read by its parser; else its default. Reads nothing itself: each program's config.ts hands
// in its command line, environment and file. Every bad value is reported, not only the first.
import { isRefusal, type Setting, type SettingsTable, type SettingsValues } from './setting.js';

export interface SettingsInput {
  /** What the command line gave, by setting name. */
  readonly flags?: Readonly<Record<string, unknown>>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The config file's contents, and how a message names the file. */
  readonly file?: { readonly tree: unknown; readonly name: string };
}

/** Where a value came from: "--port", "KERUTA_API_PORT" or "port in keruta.yaml". */
export interface SettingSource {
  readonly kind: 'flag' | 'env' | 'file';
  readonly name: string;
}

export interface SettingProblem {
  readonly setting: string;
  readonly source: SettingSource;
  readonly value: unknown;
  /** What it must be, after "must". */
  readonly must: string;
  readonly secret: boolean;
}

export interface ResolvedSettings<S extends SettingsTable> {
  /** Every setting's value (its default where the given value was bad), frozen. */
  readonly values: SettingsValues<S>;
  readonly problems: readonly SettingProblem[];
}

export function resolveSettings<S extends SettingsTable>(table: S, input: SettingsInput = {}): ResolvedSettings<S> {
  const values: Record<string, unknown> = {};
  const problems: SettingProblem[] = [];
  for (const [name, setting] of Object.entries(table)) {
    const fallback = defaultOf(name, setting);
    const given = givenValue(name, setting, input);
    if (given === undefined) {
      values[name] = fallback;
      continue;
    }
    const parsed = setting.parse(given.value);
    if (parsed !== undefined && !isRefusal(parsed)) {
      values[name] = parsed;
      continue;
    }
    values[name] = fallback;
    const must = isRefusal(parsed) ? parsed.must : setting.must;
    problems.push({ setting: name, source: given.source, value: given.value, must, secret: setting.secret === true });
  }
  return { values: Object.freeze(values) as SettingsValues<S>, problems: Object.freeze(problems) };
}

/** Every setting at its default: what a program runs with when nothing is set. */
export function defaultValues<S extends SettingsTable>(table: S): SettingsValues<S> {
  return resolveSettings(table).values;
}

function defaultOf(name: string, setting: Setting<unknown>): unknown {
  if (setting.default === undefined) return undefined;
  const parsed = setting.parse(setting.default);
  // A default the setting's own parser refuses is a mistake in the table, not in the user's input.
  if (parsed === undefined || isRefusal(parsed)) throw new TypeError(`setting ${name}: its default ${JSON.stringify(setting.default)} is refused by its parser`);
  return parsed;
}

function givenValue(name: string, setting: Setting<unknown>, input: SettingsInput): { value: unknown; source: SettingSource } | undefined {
  const flag = input.flags?.[name];
  if (flag !== undefined) return { value: flag, source: { kind: 'flag', name: setting.flag ?? name } };
  const fromEnv = setting.env === undefined ? undefined : input.env?.[setting.env];
  // An empty variable is an unset one, as in a shell's `KERUTA_X= command`.
  if (setting.env !== undefined && fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: { kind: 'env', name: setting.env } };
  if (setting.key === undefined || input.file === undefined) return undefined;
  const fromFile = lookup(input.file.tree, setting.key);
  // `key:` with nothing after it is YAML's null: not set.
  if (fromFile === undefined || fromFile === null) return undefined;
  return { value: fromFile, source: { kind: 'file', name: `${setting.key} in ${input.file.name}` } };
}

function isMapping(node: unknown): node is Record<string, unknown> {
  return typeof node === 'object' && node !== null && !Array.isArray(node);
}

function lookup(tree: unknown, path: string): unknown {
  let node = tree;
  for (const part of path.split('.')) {
    if (!isMapping(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** The keys of a config file that no setting has ("websocket.urll"), for a warning. */
export function unknownKeys(table: SettingsTable, tree: unknown): string[] {
  const known = new Set(Object.values(table).flatMap((setting) => (setting.key === undefined ? [] : [setting.key])));
  const walk = (node: unknown, prefix: string): string[] => {
    if (!isMapping(node)) return [];
    return Object.entries(node).flatMap(([name, value]) => {
      const path = prefix === '' ? name : `${prefix}.${name}`;
      if (known.has(path)) return [];
      const isSection = [...known].some((key) => key.startsWith(`${path}.`));
      if (isSection && isMapping(value)) return walk(value, path);
      return value === null ? [] : [path];
    });
  };
  return walk(tree, '');
}

/** Freezes `value` and everything inside it: a config handed down cannot be changed on the way. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
