// Keyboard shortcuts, as in less, vim and GitHub's log viewer: `/` search, `n`/`N` next and
// previous match, `p` pause, `g`/`G` top and bottom, `t` timestamps, `[`/`]` fold and unfold
// every section, `?` help. Keys typed into a text box are left alone, except Esc.

export interface ShortcutActions {
  focusSearch(): void;
  nextMatch(): void;
  previousMatch(): void;
  togglePause(): void;
  top(): void;
  bottom(): void;
  toggleTimestamps(): void;
  foldAll(): void;
  unfoldAll(): void;
  help(): void;
  escape(): void;
}

export function shortcutFor(key: string, actions: ShortcutActions): (() => void) | undefined {
  switch (key) {
    case '/':
      return actions.focusSearch;
    case 'n':
      return actions.nextMatch;
    case 'N':
      return actions.previousMatch;
    case 'p':
      return actions.togglePause;
    case 'g':
    case 'Home':
      return actions.top;
    case 'G':
    case 'End':
      return actions.bottom;
    case 't':
      return actions.toggleTimestamps;
    case '[':
      return actions.foldAll;
    case ']':
      return actions.unfoldAll;
    case '?':
      return actions.help;
    default:
      return undefined;
  }
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit'].includes(target.type);
}

export function installShortcuts(actions: ShortcutActions): void {
  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (event.key === 'Escape') {
      actions.escape();
      return;
    }
    if (isTyping(event.target) || document.querySelector('dialog[open]') !== null) return;
    const action = shortcutFor(event.key, actions);
    if (action === undefined) return;
    event.preventDefault();
    action();
  });
}
