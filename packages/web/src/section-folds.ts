// Folding sections by hand: one section, all of them, or the one a line is inside (to show that
// line). A section handled by hand is remembered as such, so that it keeps its state when it ends.
import { LINE_FLAGS, type LineStore } from './line-store.js';
import type { ViewRules } from './view-index.js';

/** Folds or unfolds the section with this header seq. */
export function toggleFold(rules: ViewRules, seq: number): void {
  rules.toggledByHand.add(seq);
  if (rules.folded.has(seq)) rules.folded.delete(seq);
  else rules.folded.add(seq);
}

/** Folds or unfolds every section whose header is held. */
export function setAllFolded(store: LineStore, rules: ViewRules, folded: boolean): void {
  for (let i = store.firstIndex; i < store.endIndex; i++) {
    if (!(store.flagsAt(i) & LINE_FLAGS.groupStart)) continue;
    const seq = store.seqAt(i);
    rules.toggledByHand.add(seq);
    if (folded) rules.folded.add(seq);
    else rules.folded.delete(seq);
  }
}

/** Unfolds the folded section the line is inside; false when there was none. */
export function unfoldAround(store: LineStore, rules: ViewRules, index: number): boolean {
  const group = store.groupAt(index);
  if (group === 0 || store.flagsAt(index) & LINE_FLAGS.groupStart || !rules.folded.has(group)) return false;
  rules.folded.delete(group);
  rules.toggledByHand.add(group);
  return true;
}
