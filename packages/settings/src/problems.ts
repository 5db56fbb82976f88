// A bad value as a message that names the setting and where the value came from. Two wordings,
// each kept as its program's users and tests know it; a secret's value is never repeated.
import type { SettingProblem } from './resolve.js';

/** "KERUTA_API_PORT: must be a whole number from 0 to 65535, got "x"" (keruta-api, keruta). */
export function describeProblem(problem: SettingProblem): string {
  const got = problem.secret ? '' : `, got ${JSON.stringify(problem.value)}`;
  return `${problem.source.name}: must ${problem.must}${got}`;
}

const ORIGIN = { flag: ' (command line)', env: ' (environment)', file: '' } as const;

/** "KERUTA_LOG_BATCH_SIZE (environment): invalid value "ten": must be …" (keruta-agent). */
export function describeProblemWithOrigin(problem: SettingProblem): string {
  const shown = problem.secret ? '' : ` ${JSON.stringify(problem.value)}`;
  return `${problem.source.name}${ORIGIN[problem.source.kind]}: invalid value${shown}: must ${problem.must}`;
}
