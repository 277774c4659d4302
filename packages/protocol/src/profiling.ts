import Type from 'typebox';
import { PROFILE_SECONDS } from './profile-paths.ts';

export * from './profile-paths.ts';

export const CpuProfileQuery = Type.Object(
  {
    seconds: Type.Optional(
      Type.Integer({
        minimum: PROFILE_SECONDS.min,
        maximum: PROFILE_SECONDS.max,
        description: `how long to sample, ${PROFILE_SECONDS.min}–${PROFILE_SECONDS.max} s (default ${PROFILE_SECONDS.default})`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type CpuProfileQuery = Type.Static<typeof CpuProfileQuery>;
