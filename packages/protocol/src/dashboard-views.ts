import Type from 'typebox';
import { Job } from './api.ts';
import { CSRF_HEADER } from './session-names.ts';

export const SignInRequest = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 4096, description: 'an API token from the auth: section' }) },
  { additionalProperties: false },
);

export const Session = Type.Object({
  auth: Type.Boolean({ description: 'false: the farm has no auth: section; everyone may do everything' }),
  publicRead: Type.Boolean({ description: 'true: reading needs no sign-in (the anonymous read-only view)' }),
  signedIn: Type.Boolean(),
  name: Type.Union([Type.String(), Type.Null()], { description: "the signed-in token's name" }),
  scopes: Type.Array(Type.String(), { description: 'what the session may do' }),
  csrfToken: Type.Union([Type.String(), Type.Null()], { description: `send as ${CSRF_HEADER} on changes` }),
});

export const QueuedJob = Type.Object({
  job: Job,
  position: Type.Integer({ minimum: 1, description: "its place in its pool's queue" }),
  effectivePriority: Type.Number({ description: 'its priority improved by aging; lower runs first' }),
});

export const QueueView = Type.Object({
  pools: Type.Array(Type.Object({ pool: Type.String(), jobs: Type.Array(QueuedJob) })),
});

export type SignInRequest = Type.Static<typeof SignInRequest>;
export type Session = Type.Static<typeof Session>;
export type QueuedJob = Type.Static<typeof QueuedJob>;
export type QueueView = Type.Static<typeof QueueView>;
