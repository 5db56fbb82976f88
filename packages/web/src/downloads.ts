// Download links for the whole stored log, through the export endpoint (JSON, CSV, text). A plain
// link cannot carry the token, so with a token the file is fetched with it and saved from a blob.
import type { RestClient } from 'keruta-client';
import type { ExportFormat } from '@keruta/protocol';

export function setUpDownloads(options: { rest: RestClient; taskId: string; token: string | undefined; links: Record<ExportFormat, HTMLAnchorElement> }): void {
  const { rest, taskId, token } = options;
  for (const [format, link] of Object.entries(options.links) as [ExportFormat, HTMLAnchorElement][]) {
    link.href = rest.exportUrl(taskId, { format });
    link.download = `${taskId}_logs.${format}`;
    if (token === undefined) continue;
    link.addEventListener('click', (event) => {
      event.preventDefault();
      void saveWithToken(rest, taskId, format, link);
    });
  }
}

async function saveWithToken(rest: RestClient, taskId: string, format: ExportFormat, link: HTMLAnchorElement): Promise<void> {
  const label = link.textContent;
  link.textContent = '…';
  try {
    const response = await rest.exportLogs(taskId, { format });
    const url = URL.createObjectURL(await response.blob());
    const save = document.createElement('a');
    save.href = url;
    save.download = link.download;
    save.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (failure) {
    link.title = `Download failed: ${failure instanceof Error ? failure.message : String(failure)}`;
  } finally {
    link.textContent = label;
  }
}
