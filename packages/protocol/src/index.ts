export * from './api.ts';
export * from './client.ts';
export * from './config.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './log-frames.ts';
export * from './sse.ts';
export * from './states.ts';
