// Dark and light: the system's choice (prefers-color-scheme) unless the user picked one with the
// theme button or `?theme=`; the pick is remembered in localStorage.

export type ThemeChoice = 'system' | 'dark' | 'light';

const STORAGE_KEY = 'keruta.theme';
const ORDER: ThemeChoice[] = ['system', 'dark', 'light'];

export function applyTheme(choice: ThemeChoice): void {
  if (choice === 'system') delete document.documentElement.dataset['theme'];
  else document.documentElement.dataset['theme'] = choice;
}

export function savedTheme(): ThemeChoice {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    return value === 'dark' || value === 'light' ? value : 'system';
  } catch {
    // Storage refused: follow the system.
    return 'system';
  }
}

/** The next choice in system → dark → light, applied and remembered. */
export function cycleTheme(current: ThemeChoice): ThemeChoice {
  const next = ORDER[(ORDER.indexOf(current) + 1) % ORDER.length] ?? 'system';
  applyTheme(next);
  try {
    if (next === 'system') window.localStorage.removeItem(STORAGE_KEY);
    else window.localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Storage refused: the choice lasts for this page.
  }
  return next;
}

export function themeLabel(choice: ThemeChoice): string {
  return choice === 'system' ? 'Theme: follows the system' : `Theme: ${choice}`;
}
