// The public entry of @keruta/settings: declare settings, resolve them, word their problems,
// render their README table and their --help lines.
export { isRefusal, refuse, type Parse, type Refusal, type Setting, type SettingValue, type SettingsTable, type SettingsValues } from './setting.js';
export { boolean, commaList, duration, integer, oneOf, patterns, text, url, type ValueKind } from './parsers.js';
export { parseDuration } from './duration.js';
export {
  deepFreeze,
  defaultValues,
  resolveSettings,
  unknownKeys,
  type ResolvedSettings,
  type SettingProblem,
  type SettingSource,
  type SettingsInput,
} from './resolve.js';
export { describeProblem, describeProblemWithOrigin } from './problems.js';
export {
  renderSettingsTable,
  settingsTableIn,
  withReadmeTables,
  withSettingsTable,
  type ReadmeTable,
  type ReadmeTables,
  type TableOptions,
} from './markdown-table.js';
export { flagHelpLines } from './flag-help.js';
