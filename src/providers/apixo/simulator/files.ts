/**
 * The local APIXO server's result files: GET|HEAD /files/<taskId>_<i>.png,
 * real PNGs drawn by the KIE simulator's media module, no key needed (as
 * result URLs are). 404 for an unknown or unfinished task, a position it
 * does not have, and — as at APIXO, whose result URLs expire after about a
 * day (notes) — from 24 h after the task ended, while its status still answers.
 */
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileBody, parseFileName, taskImagePng } from '../../kie/simulator/media.js';
import { APIXO_RESULT_URL_TTL_MS } from '../schemas.js';
import { send } from './http.js';
import { stateAt } from './tasks.js';
import type { ApixoRecordedRequest, ApixoSimTask } from './types.js';

export async function serveResultFile(
  tasks: ReadonlyMap<string, ApixoSimTask>,
  now: number,
  fileName: string,
  entry: ApixoRecordedRequest,
  headOnly: boolean,
  res: ServerResponse,
): Promise<void> {
  const wanted = parseFileName(fileName);
  const task = wanted?.kind === 'result' ? tasks.get(wanted.taskId) : undefined;
  const expired = task !== undefined && now >= task.finishAt + APIXO_RESULT_URL_TTL_MS;
  if (!wanted || wanted.kind !== 'result' || wanted.ext !== 'png' || !task || stateAt(task, now) !== 'success' || wanted.index >= task.resultCount || expired) {
    entry.status = 404;
    send(res, 404, JSON.stringify({ code: 404, message: expired ? 'File expired' : 'File not found' }));
    return;
  }
  entry.taskId = task.taskId;
  entry.status = 200;
  const png = taskImagePng(
    {
      taskId: task.taskId,
      op: task.mode === 'upscale' ? 'upscale' : task.mode === 'vary' ? 'vary' : 'generate',
      parentTaskId: task.parentTaskId,
      parentPosition: task.parentPosition,
      aspectRatio: task.aspectRatio,
    },
    wanted.index,
  );
  const file = fileBody(png, 'png', null);
  res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.size });
  if (headOnly) {
    res.end();
    return;
  }
  await pipeline(Readable.from(file.chunks(), { objectMode: false }), res).catch(() => res.destroy());
}
