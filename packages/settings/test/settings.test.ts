// The settings mechanism on a small table of its own: layering, the problems it reports and how
// they are worded, the value kinds, and the README table and --help lines made from a table.
import { describe, expect, it } from 'vitest';
import {
  boolean,
  commaList,
  defaultValues,
  describeProblem,
  describeProblemWithOrigin,
  duration,
  flagHelpLines,
  integer,
  oneOf,
  patterns,
  renderSettingsTable,
  resolveSettings,
  settingsTableIn,
  text,
  unknownKeys,
  url,
  withReadmeTables,
  type Setting,
} from '@keruta/settings';

const TABLE = {
  port: { flag: '--port', metavar: 'P', env: 'APP_PORT', key: 'port', ...integer(0, 65_535), default: 8080, help: 'port to listen on', doc: 'the port' },
  wait: { env: 'APP_WAIT', key: 'limits.wait', ...duration(1), default: '1s', doc: 'how long' },
  mode: { flag: '--mode', metavar: 'a|b', env: 'APP_MODE', key: 'mode', ...oneOf(['a', 'b'] as const, { ALPHA: 'a' }), default: 'a', doc: '`a` \\| `b` or a | b' },
  token: { env: 'APP_TOKEN', key: 'auth.token', ...text, secret: true, doc: 'never shown' },
  hosts: { env: 'APP_HOSTS', key: 'hosts', ...commaList, default: [], doc: 'extra hosts' },
  home: { key: 'home', ...text, shownDefault: '`~/.app`', doc: 'where it lives' },
} as const satisfies Record<string, Setting<unknown>>;

describe('resolveSettings', () => {
  it('takes a flag over a variable over the file over the default, and types what it read', () => {
    const file = { tree: { port: 7000, limits: { wait: '2s' }, mode: 'b' }, name: 'app.yaml' };
    const { values, problems } = resolveSettings(TABLE, { flags: { port: '9000' }, env: { APP_PORT: '8000', APP_MODE: 'ALPHA' }, file });
    expect(problems).toEqual([]);
    expect(values).toEqual({ port: 9000, wait: 2000, mode: 'a', token: undefined, hosts: [], home: undefined });
    expect(Object.isFrozen(values)).toBe(true);
    expect(defaultValues(TABLE)).toEqual({ port: 8080, wait: 1000, mode: 'a', token: undefined, hosts: [], home: undefined });
  });

  it('counts an empty variable and a null in the file as not set', () => {
    const { values } = resolveSettings(TABLE, { env: { APP_PORT: '' }, file: { tree: { port: null, hosts: 'a, ,b' }, name: 'f' } });
    expect(values.port).toBe(8080);
    expect(values.hosts).toEqual(['a', 'b']);
  });

  it('reports every bad value with where it came from, in both wordings, never repeating a secret', () => {
    const { problems, values } = resolveSettings(TABLE, {
      flags: { port: 'eighty' },
      env: { APP_WAIT: '0s' },
      file: { tree: { mode: 'c', auth: { token: 12345 } }, name: 'app.yaml' },
    });
    expect(values.port).toBe(8080);
    expect(problems.map(describeProblem)).toEqual([
      '--port: must be a whole number from 0 to 65535, got "eighty"',
      'APP_WAIT: must be a duration such as 500ms, 1s or 1 (seconds), above 0, got "0s"',
      'mode in app.yaml: must be one of a, b, got "c"',
      'auth.token in app.yaml: must be a non-empty string',
    ]);
    expect(problems.map(describeProblemWithOrigin)).toEqual([
      '--port (command line): invalid value "eighty": must be a whole number from 0 to 65535',
      'APP_WAIT (environment): invalid value "0s": must be a duration such as 500ms, 1s or 1 (seconds), above 0',
      'mode in app.yaml: invalid value "c": must be one of a, b',
      'auth.token in app.yaml: invalid value: must be a non-empty string',
    ]);
  });

  it("lets a parser say what was wrong in its own words, and refuses a default its parser refuses", () => {
    const site = { site: { env: 'SITE', ...url(['https:'], 'https://example.com'), doc: 'the site' } };
    expect(resolveSettings(site, { env: { SITE: 'example.com' } }).problems.map(describeProblem)).toEqual(['SITE: must be a URL such as https://example.com, got "example.com"']);
    expect(resolveSettings(site, { env: { SITE: 'http://example.com' } }).problems.map(describeProblem)).toEqual(['SITE: must start with https://, got "http://example.com"']);
    expect(() => defaultValues({ bad: { ...integer(1, 2), default: 3, doc: '' } })).toThrow(/setting bad: its default 3 is refused/);
  });

  it('names the config-file keys that no setting has', () => {
    expect(unknownKeys(TABLE, { port: 1, limits: { wait: 1, wiat: 2 }, auth: 'x', extra: { a: 1 }, empty: null })).toEqual(['limits.wiat', 'auth', 'extra']);
  });
});

describe('value kinds', () => {
  it('read text from flags and variables and values from a file alike', () => {
    expect([integer(0, 10).parse(' 7 '), integer(0, 10).parse(7), integer(0, 10).parse('7.5'), integer(0, 10).parse('1e1'), integer(0, 10).parse(11)]).toEqual([7, 7, undefined, undefined, undefined]);
    expect([duration(0).parse('500ms'), duration(0).parse('1m'), duration(0).parse(2), duration(0).parse('soon')]).toEqual([500, 60_000, 2000, undefined]);
    expect([boolean.parse('yes'), boolean.parse('OFF'), boolean.parse(true), boolean.parse(1), boolean.parse('maybe')]).toEqual([true, false, true, true, undefined]);
    expect([oneOf(['INFO', 'WARN'] as const, { WARNING: 'WARN' }).parse('warning'), oneOf(['INFO'] as const).parse('info')]).toEqual(['WARN', 'INFO']);
    expect([commaList.parse(['a', ' b ']), commaList.parse('a,b'), commaList.parse({})]).toEqual([['a', 'b'], ['a', 'b'], undefined]);
    expect([patterns.parse('x+'), patterns.parse(['(unclosed']), text.parse(''), url(['ws:']).parse('ws://h/p//')]).toEqual([['x+'], undefined, undefined, 'ws://h/p']);
  });
});

describe('the README table and --help', () => {
  it('has one row per setting, leaves out a column no setting fills, and escapes | in cells', () => {
    expect(renderSettingsTable({ hosts: TABLE.hosts, home: TABLE.home }, { unset: 'unset' })).toBe(
      ['| variable | config key | default | meaning |', '| --- | --- | --- | --- |', '| `APP_HOSTS` | `hosts` | unset | extra hosts |', '|  | `home` | `~/.app` | where it lives |'].join('\n'),
    );
    const table = renderSettingsTable(TABLE);
    expect(table.split('\n')[0]).toBe('| flag | variable | config key | default | meaning |');
    expect(table).toContain('| `--port P` | `APP_PORT` | `port` | `8080` | the port |');
    expect(table).toContain('|  | `APP_WAIT` | `limits.wait` | `1s` | how long |');
    expect(table).toContain('| `--mode a\\|b` | `APP_MODE` | `mode` | `a` | `a` \\| `b` or a \\| b |');
    expect(table).toContain('|  | `APP_TOKEN` | `auth.token` | (none) | never shown |');
  });

  it("writes a table into its README block and reads it back, and refuses a README without the block", () => {
    const readme = 'Intro\n\n<!-- settings-table app (generated) -->\nold table\n<!-- /settings-table -->\n\nMore\n';
    const written = withReadmeTables(readme, { app: { settings: { port: TABLE.port } } });
    expect(settingsTableIn(written, 'app')).toBe(renderSettingsTable({ port: TABLE.port }));
    expect(written.startsWith('Intro\n\n<!-- settings-table app (generated) -->\n| flag |')).toBe(true);
    expect(written.endsWith('\n<!-- /settings-table -->\n\nMore\n')).toBe(true);
    expect(withReadmeTables(written, { app: { settings: { port: TABLE.port } } })).toBe(written);
    expect(settingsTableIn(written, 'other')).toBeUndefined();
    expect(() => withReadmeTables(readme, { other: { settings: {} } })).toThrow(/no <!-- settings-table other -->/);
  });

  it('gives a --help line per flag with its variable and default', () => {
    expect(flagHelpLines(TABLE, 12)).toEqual(['  --port P  port to listen on (APP_PORT, default 8080)', '  --mode a|b (APP_MODE, default a)']);
  });
});
