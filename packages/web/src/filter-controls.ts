// The source and level checkboxes: what they say becomes the viewer's filter masks, and the
// address's `source=`/`level=` (or a line link to a filtered line) can set them.
import { LOG_LEVELS, LOG_SOURCES, type LogLevel, type LogSource } from '@keruta/protocol';
import type { LogViewer } from './log-viewer.js';

export interface FilterControls {
  /** Checks these sources and levels, unchecks the others, and filters by them. */
  set(sources: readonly LogSource[], levels: readonly LogLevel[]): void;
}

function maskOf(boxes: readonly HTMLInputElement[], names: readonly string[]): number {
  return boxes.reduce((mask, box) => (box.checked ? mask | (1 << names.indexOf(box.value)) : mask), 0);
}

export function createFilterControls(options: { sourceFilter: HTMLElement; levelFilter: HTMLElement; viewer: LogViewer }): FilterControls {
  const sourceBoxes = [...options.sourceFilter.querySelectorAll<HTMLInputElement>('input[type=checkbox]')];
  const levelBoxes = [...options.levelFilter.querySelectorAll<HTMLInputElement>('input[type=checkbox]')];
  const apply = (): void => options.viewer.setFilters(maskOf(sourceBoxes, LOG_SOURCES), maskOf(levelBoxes, LOG_LEVELS));
  for (const box of [...sourceBoxes, ...levelBoxes]) box.addEventListener('change', apply);
  return {
    set(sources, levels) {
      for (const box of sourceBoxes) box.checked = sources.includes(box.value as LogSource);
      for (const box of levelBoxes) box.checked = levels.includes(box.value as LogLevel);
      apply();
    },
  };
}
