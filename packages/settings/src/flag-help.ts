// The lines of a --help that describe the settings a program takes as flags, from the same
// declarations as its README: "  --port P     port to listen on (KERUTA_API_PORT, default 8080)".
import type { SettingsTable } from './setting.js';

/** One line per setting with a flag, its `help` followed by its variable and default. */
export function flagHelpLines(table: SettingsTable, width: number): string[] {
  return Object.values(table).flatMap((setting) => {
    if (setting.flag === undefined) return [];
    const flag = setting.metavar === undefined ? setting.flag : `${setting.flag} ${setting.metavar}`;
    const facts = [
      ...(setting.env === undefined ? [] : [setting.env]),
      ...(setting.default === undefined || Array.isArray(setting.default) ? [] : [`default ${String(setting.default)}`]),
    ];
    const text = [setting.help ?? '', facts.length === 0 ? '' : `(${facts.join(', ')})`].filter((part) => part !== '').join(' ');
    return [`  ${flag.padEnd(width - 3)} ${text}`];
  });
}
