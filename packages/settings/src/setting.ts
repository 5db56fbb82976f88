// What a program declares about each of its settings, once: where a value may come from (flag,
// variable, config-file key), what it accepts, its default and what it means to a user.

const REFUSAL = Symbol('refusal');

/** A value a parser refused for a reason of its own, instead of the setting's `must`. */
export interface Refusal {
  readonly [REFUSAL]: true;
  /** What the value must do, after "must": "start with http:// or https://". */
  readonly must: string;
}

export function refuse(must: string): Refusal {
  return { [REFUSAL]: true, must };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && REFUSAL in value;
}

/** Reads one raw value (a flag's or variable's text, or what the config file holds). */
export type Parse<T> = (raw: unknown) => T | undefined | Refusal;

export interface Setting<T> {
  /** Its path in the config file, e.g. "logStreaming.bufferSize"; none for a program without a file. */
  readonly key?: string;
  /** The environment variable, e.g. "KERUTA_LOG_LEVEL". */
  readonly env?: string;
  /** The flag as the user types it, e.g. "--log-level". */
  readonly flag?: string;
  /** The flag's argument as help and README show it: "L" in "--log-level L". */
  readonly metavar?: string;
  /** What a value must be, after "must": "be a whole number from 1 to 10000". */
  readonly must: string;
  readonly parse: Parse<T>;
  /**
   * The default as a user would write it ("1s", 8080), read by `parse` like any value, so a
   * default is always one the setting accepts and the README shows it as it would be typed.
   */
  readonly default?: unknown;
  /** The README's default (markdown) where `default` cannot say it: computed from elsewhere, or unset. */
  readonly shownDefault?: string;
  /** Never repeated in an error message. */
  readonly secret?: boolean;
  /** Its meaning, for the README's table (markdown). */
  readonly doc: string;
  /** One line for a program's --help, where it prints its own. */
  readonly help?: string;
}

export type SettingsTable = Readonly<Record<string, Setting<unknown>>>;

type Parsed<S> = S extends { readonly parse: (raw: unknown) => infer T } ? Exclude<T, undefined | Refusal> : never;

/** A resolved setting: always a value when it has a default, else possibly none. */
export type SettingValue<S> = S extends { readonly default: unknown } ? Parsed<S> : Parsed<S> | undefined;

export type SettingsValues<S extends SettingsTable> = { readonly [N in keyof S]: SettingValue<S[N]> };
