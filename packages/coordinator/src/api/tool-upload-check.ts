import { ApiError } from '@switchyard/protocol';
import type { Farm } from '../config/farm-config.ts';
import type { AttemptCredentials } from '../credentials/attempt-credentials.ts';
import type { ToolMetrics } from '../tools/tool-metrics.ts';
import type { ToolService } from '../tools/tool-service.ts';
import { checkBearer } from './auth.ts';
import type { ContinueCheck } from './expect-continue.ts';

const TOOL_UPLOAD_PATH = /^\/api\/v1\/tools\/sha512\/([^/?#]+)$/;

/**
 * Tool uploads before their body: the `push` token, the digest, Content-Length and the size
 * limit, visibility and filename; a digest stored already is answered 200 at once (or 409 for
 * another visibility), so uploading a tool the store has costs no body bytes.
 */
export function toolUploadCheck(
  farm: () => Farm,
  credentials: AttemptCredentials,
  tools: ToolService,
  metrics: ToolMetrics,
): ContinueCheck {
  return {
    path: TOOL_UPLOAD_PATH,
    async decide(request, [digest = '']) {
      checkBearer(farm(), 'push', request.headers.authorization, credentials);
      if (!/^[0-9a-f]{128}$/.test(digest)) {
        throw new ApiError('invalid-request', `"${digest.slice(0, 140)}" is not a sha512 (128 lower-case hex digits)`);
      }
      const stored = await tools.recordIfStored(tools.admit(digest, request.headers));
      return stored ? { status: 200, body: stored } : 'continue';
    },
    refused: () => metrics.uploads.inc({ outcome: 'refused' }),
  };
}
