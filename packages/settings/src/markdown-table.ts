// A program's settings as the markdown table its README shows, and the README block that holds it
// (between `<!-- settings-table ID … -->` and `<!-- /settings-table -->`), so that the table is
// written from the declarations (scripts/settings-tables.mjs) and a test can compare the two.
import type { Setting, SettingsTable } from './setting.js';

export interface TableOptions {
  /** The default column of a setting that has none; "(none)" unless told. */
  readonly unset?: string;
}

const COLUMNS: readonly { title: string; cell: (setting: Setting<unknown>, options: Required<TableOptions>) => string }[] = [
  { title: 'flag', cell: (s) => (s.flag === undefined ? '' : code(s.metavar === undefined ? s.flag : `${s.flag} ${s.metavar}`)) },
  { title: 'variable', cell: (s) => (s.env === undefined ? '' : code(s.env)) },
  { title: 'config key', cell: (s) => (s.key === undefined ? '' : code(s.key)) },
  { title: 'default', cell: (s, options) => s.shownDefault ?? shownValue(s.default, options.unset) },
  { title: 'meaning', cell: (s) => s.doc },
];

/** A `|` inside a cell, in code too, would end the cell in GitHub's tables. */
function escapePipes(cell: string): string {
  return cell.replace(/(?<!\\)\|/g, '\\|');
}

function code(text: string): string {
  return `\`${text}\``;
}

function shownValue(value: unknown, unset: string): string {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return unset;
  return Array.isArray(value) ? value.map((item) => code(String(item))).join(', ') : code(String(value));
}

/** The table, one row per setting in declaration order; a column no setting fills is left out. */
export function renderSettingsTable(table: SettingsTable, options: TableOptions = {}): string {
  const full = { unset: options.unset ?? '(none)' };
  const settings = Object.values(table);
  const columns = COLUMNS.filter((column) => settings.some((setting) => column.cell(setting, full) !== ''));
  const row = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [
    row(columns.map((column) => column.title)),
    row(columns.map(() => '---')),
    ...settings.map((setting) => row(columns.map((column) => escapePipes(column.cell(setting, full))))),
  ].join('\n');
}

const END = '<!-- /settings-table -->';

function blockPattern(id: string): RegExp {
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(<!-- settings-table ${escaped}(?: [^>]*)?-->\\n)([\\s\\S]*?)\\n?${END.replace(/[/]/g, '\\/')}`);
}

/** The table held in `markdown`'s block `id`, or undefined when it has no such block. */
export function settingsTableIn(markdown: string, id: string): string | undefined {
  return blockPattern(id).exec(markdown)?.[2];
}

/** `markdown` with block `id` holding `table`; a README without the block is a mistake. */
export function withSettingsTable(markdown: string, id: string, table: string): string {
  const pattern = blockPattern(id);
  if (!pattern.test(markdown)) throw new Error(`no <!-- settings-table ${id} --> … ${END} block`);
  return markdown.replace(pattern, (_match, start: string) => `${start}${table}\n${END}`);
}

export interface ReadmeTable extends TableOptions {
  readonly settings: SettingsTable;
}

/** The settings tables a program's README shows, by block id. */
export type ReadmeTables = Readonly<Record<string, ReadmeTable>>;

/** `markdown` with each of `tables` generated into its block. */
export function withReadmeTables(markdown: string, tables: ReadmeTables): string {
  return Object.entries(tables).reduce((text, [id, table]) => withSettingsTable(text, id, renderSettingsTable(table.settings, table)), markdown);
}
