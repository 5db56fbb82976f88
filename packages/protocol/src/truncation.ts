// How a cut line says so: `metadata.truncated: true` and `metadata.originalLength` (the line's
// length before the cut, in the same UTF-16 characters as the maximum), and the marker that the
// txt and csv exports and `keruta logs` put at the start of such a message, where a reader sees it
// without scrolling past the 8,192 characters that were kept.

/** The length a cut line had, when the writer recorded a usable one (metadata is free-form). */
export function originalLengthOf(entry: { readonly message: string; readonly metadata: Readonly<Record<string, unknown>> }): number | undefined {
  const length = entry.metadata['originalLength'];
  return typeof length === 'number' && Number.isSafeInteger(length) && length > entry.message.length ? length : undefined;
}

/** 1048576 -> "1,048,576": the same on every machine, whatever its locale. */
function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}

/**
 * `[cut: 1,048,576 chars] ` before a cut message, `[cut] ` when the writer did not say how long
 * it was (a server or an older agent cut it), and nothing before a whole one.
 */
export function cutMarker(entry: { readonly message: string; readonly metadata: Readonly<Record<string, unknown>> }): string {
  if (entry.metadata['truncated'] !== true) return '';
  const length = originalLengthOf(entry);
  return length === undefined ? '[cut] ' : `[cut: ${groupDigits(length)} chars] `;
}
