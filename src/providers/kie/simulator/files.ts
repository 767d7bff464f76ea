/**
 * Result files, as KIE's public file host serves them: no key; unknown,
 * unfinished or forgotten ones are 404; `?size=` pads a file to test size
 * limits and `?chunked=1` answers without a content-length.
 */
import type { ServerResponse } from 'node:http';
import { sendJson, streamFile } from '../../simulator/plumbing.js';
import { simulatedMp4 } from './assets.js';
import { fileBody, parseFileName, placeholderMp4, placeholderPng, taskImagePng, type FileBody } from './media.js';
import { flagAt } from './tasks.js';
import type { RecordedRequest, SimTask } from './types.js';

function resolveFile(tasks: ReadonlyMap<string, SimTask>, now: number, fileName: string, entry: RecordedRequest): FileBody | null {
  const wanted = parseFileName(fileName);
  if (!wanted) return null;
  const sizeParam = entry.query['size'];
  const size = sizeParam !== undefined && /^\d{1,10}$/.test(sizeParam) ? Number(sizeParam) : null;
  if (wanted.kind === 'big') {
    return fileBody(wanted.ext === 'png' ? placeholderPng() : placeholderMp4(), wanted.ext, wanted.bytes);
  }
  entry.taskId = wanted.taskId;
  const task = tasks.get(wanted.taskId);
  if (!task || flagAt(task, now) !== 1 || wanted.index >= task.resultCount) return null;
  if ((task.media === 'video') !== (wanted.ext === 'mp4')) return null;
  return fileBody(wanted.ext === 'png' ? taskImagePng(task, wanted.index) : simulatedMp4(), wanted.ext, size);
}

/** Result files need no key (like KIE's public file host); unknown, unfinished or forgotten ones are 404. */
export async function serveFile(
  tasks: ReadonlyMap<string, SimTask>,
  now: number,
  fileName: string,
  entry: RecordedRequest,
  headOnly: boolean,
  res: ServerResponse,
): Promise<void> {
  const file = resolveFile(tasks, now, fileName, entry);
  if (!file) {
    entry.responseCode = 404;
    sendJson(res, 404, { code: 404, msg: 'File not found' });
    return;
  }
  entry.responseCode = 200;
  await streamFile(res, file, { headOnly, chunked: entry.query['chunked'] === '1', headers: { 'cache-control': 'public, max-age=1209600' } });
}
